package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/config"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestProbeAnswersWhileTheAppPoolIsTaken: the readiness probe has a
// connection of its own, so it answers while River or requests hold every
// connection of the app's pool, with the app's connection settings.
func TestProbeAnswersWhileTheAppPoolIsTaken(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	appCfg, err := poolConfig(db.URL+"&pool_max_conns=2", config.PoolerTransaction)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, appCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	probe, err := probePool(ctx, appCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if got := probe.Config(); got.MaxConns != 1 || got.ConnConfig.DefaultQueryExecMode != poolerExecMode ||
		got.ConnConfig.Database != appCfg.ConnConfig.Database {
		t.Fatalf("probe pool: %d connections, exec mode %v, database %q; want 1, the app's %v, %q",
			got.MaxConns, got.ConnConfig.DefaultQueryExecMode, got.ConnConfig.Database, poolerExecMode, appCfg.ConnConfig.Database)
	}
	if err := prepareDatabase(ctx, probe, true, db.URL, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("start on a migrated database: %v", err)
	}
	for range appCfg.MaxConns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
	}
	for i := range 3 {
		// Stuck behind the app's pool it would wait for ever: 10 s says so.
		probeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		st, err := ledger.NewStore(probe).Ready(probeCtx)
		cancel()
		if err != nil || !st.Current() {
			t.Fatalf("probe %d with the app's pool all taken: %+v, %v; want ready", i, st, err)
		}
	}
	if n := probe.Stat().TotalConns(); n != 1 {
		t.Errorf("the probe's pool holds %d connections, want the start's one", n)
	}
}

// TestServeStopsWaitingOnTheDatabaseWhenTheStartFails: the database's part
// of the start runs beside the rest; when the rest fails, serve returns
// its error at once instead of waiting out a database that does not answer.
func TestServeStopsWaitingOnTheDatabaseWhenTheStartFails(t *testing.T) {
	// A "database" that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	vars := map[string]string{
		"DATABASE_URL": fmt.Sprintf("postgres://u@%s/x?sslmode=disable", ln.Addr()), "PORT": fmt.Sprint(freeport.For(t)),
		"WHOP_API_KEY": "k", "WHOP_APP_ID": "app_test", "WHOP_COMPANY_ID": "biz_test", "WHOP_WEBHOOK_SECRET": "ws_test",
		"WHOP_USER_TOKEN_PUBLIC_KEY": "not a key", "WORKERS": "0",
	}
	var stdout, stderr syncBuf
	start := time.Now()
	err = run(context.Background(), []string{"serve"}, func(k string) string { return vars[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "user tokens") {
		t.Fatalf("serve = %v, want the user-token key's error (stderr: %s)", err, stderr.String())
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("serve took %v to give up, want it not to wait out the database's 10 s", took)
	}
}
