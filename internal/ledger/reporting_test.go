package ledger_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestReportingRoutes checks the router without a standby (the server's
// replica test has a real one): a second pool on the same database stands
// for a replica that answers, a port nothing listens on for one that is
// down. Each read reports where it ran, and the counters agree.
func TestReportingRoutes(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_r1", "user_r", 100, 499)
	up, err := pgxpool.New(b.ctx, b.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(up.Close)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	downCfg, err := pgxpool.ParseConfig("postgres://u@" + closed + "/x?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int64 // connection attempts to the replica that is down
	downCfg.BeforeConnect = func(context.Context, *pgx.ConnConfig) error { dials.Add(1); return nil }
	down, err := pgxpool.NewWithConfig(b.ctx, downCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)

	var mu sync.Mutex
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	countPurchases := func(n *int) func(*ledger.Store) error {
		return func(st *ledger.Store) error {
			ps, err := st.CompanyPurchases(b.ctx, "biz_1", 10)
			*n = len(ps)
			return err
		}
	}

	t.Run("no replica: the primary", func(t *testing.T) {
		r := ledger.NewReporting(b.store, nil)
		var n int
		served, err := r.Read(b.ctx, countPurchases(&n))
		if err != nil || n != 1 || served != (ledger.Served{Source: ledger.SourcePrimary}) {
			t.Errorf("Read = %+v, %v, %d purchases", served, err, n)
		}
		if st := r.Stats(); st != (ledger.ReportingStats{ServedPrimary: 1}) {
			t.Errorf("Stats = %+v", st)
		}
	})
	t.Run("a replica that answers", func(t *testing.T) {
		r := ledger.NewReporting(b.store, ledger.NewStore(up), ledger.WithReportingClock(clock))
		var n int
		served, err := r.Read(b.ctx, countPurchases(&n))
		// Not in recovery: there is no lag to measure, and none is made up.
		if err != nil || n != 1 || served != (ledger.Served{Source: ledger.SourceReplica}) {
			t.Errorf("Read = %+v, %v, %d purchases", served, err, n)
		}
		if st := r.Stats(); st != (ledger.ReportingStats{ReplicaConfigured: true, ServedReplica: 1}) {
			t.Errorf("Stats = %+v", st)
		}
	})
	t.Run("a replica that is down: the primary, then a retry after the pause", func(t *testing.T) {
		r := ledger.NewReporting(b.store, ledger.NewStore(down), ledger.WithReportingClock(clock), ledger.WithReplicaRetry(10*time.Second))
		var n int
		for i := range 3 {
			served, err := r.Read(b.ctx, countPurchases(&n))
			if err != nil || n != 1 || served != (ledger.Served{Source: ledger.SourcePrimary, Fallback: true}) {
				t.Errorf("read %d = %+v, %v, %d purchases", i, served, err, n)
			}
		}
		want := ledger.ReportingStats{ReplicaConfigured: true, ServedPrimary: 3, Fallbacks: 3, ReplicaDown: true}
		if st := r.Stats(); st != want {
			t.Errorf("Stats = %+v, want %+v", st, want)
		}
		// Resting, the replica is not even tried: the two reads after the
		// first cost no connection attempt. Past the pause it is tried
		// again (and is still down).
		if n := dials.Load(); n != 1 {
			t.Errorf("%d connection attempts for 3 reads, want 1", n)
		}
		advance(11 * time.Second)
		r.Read(b.ctx, countPurchases(&n))
		if n := dials.Load(); n != 2 {
			t.Errorf("%d connection attempts after the pause, want 2", n)
		}
		if st := r.Stats(); st.Fallbacks != 4 || !st.ReplicaDown {
			t.Errorf("Stats after the retry = %+v", st)
		}
	})
	t.Run("the caller's own deadline is not a failover", func(t *testing.T) {
		r := ledger.NewReporting(b.store, ledger.NewStore(up))
		ctx, cancel := context.WithCancel(b.ctx)
		cancel()
		_, err := r.Read(ctx, func(st *ledger.Store) error {
			_, err := st.CompanyPurchases(ctx, "biz_1", 10)
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Read with a cancelled context = %v, want context.Canceled", err)
		}
		if st := r.Stats(); st.Fallbacks != 0 || st.ReplicaDown {
			t.Errorf("Stats = %+v: a cancelled request marked the replica down", st)
		}
	})
	t.Run("an error on both servers is returned", func(t *testing.T) {
		r := ledger.NewReporting(b.store, ledger.NewStore(up))
		_, err := r.Read(b.ctx, func(st *ledger.Store) error {
			_, err := st.PurchasesByID(b.ctx, []string{"pur_r1"})
			if err == nil {
				err = errors.New("a report that cannot be made")
			}
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "cannot be made") {
			t.Errorf("Read = %v", err)
		}
	})
}
