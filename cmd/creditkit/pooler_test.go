package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// poolerSize is the test pooler's server connections: far fewer than the
// app's pool of 20 client connections, so every transaction can land on a
// different server connection than the one before.
const poolerSize = 3

// TestServeBehindTransactionPooler runs `creditkit serve` through a real
// PgBouncer in transaction mode with three server connections, migrating
// on the direct URL, and does what members and admins do, concurrently:
// buy (webhook), spend, read the dashboard, pay a creator's revenue share
// (River, polling) and send a payout. Everything must come out exactly as
// on Postgres itself, and Postgres must never see more than the pooler's
// three connections for the app's database.
func TestServeBehindTransactionPooler(t *testing.T) {
	pooler := pgtest.Pooler(t, poolerSize)
	db := pgtest.NewEmpty(t) // serve migrates it, on DATABASE_URL_DIRECT
	port := freeport.For(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := whopsimtest.Start(t, whopsimtest.Config{AppURL: base, Options: whopsim.Options{
		WebhookURL: base + "/api/webhook", PaymentDelay: -1, WebhookConcurrency: 8,
	}})
	sd := env.Seed
	vars := map[string]string{
		"APP_ENV":                  "production",
		"PORT":                     fmt.Sprint(port),
		"DATABASE_URL":             pooler.URL(db.Name),
		"DATABASE_POOLER":          "transaction",
		"DATABASE_URL_DIRECT":      db.URL,
		"WHOP_API_KEY":             sd.App.APIKey,
		"WHOP_APP_ID":              sd.App.ID,
		"WHOP_COMPANY_ID":          sd.Owner.ID,
		"WHOP_WEBHOOK_SECRET":      sd.App.WebhookSecret,
		"WHOP_BASE_URL":            env.APIBase,
		"WHOP_USER_TOKEN_JWKS_URL": env.JWKSURL,
		"REVENUE_SHARE_PERCENT":    "10",
		"RECONCILE_INTERVAL":       "1h",
		"SHUTDOWN_TIMEOUT":         "5s",
	}
	logs := &syncBuf{}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve", "-host", "127.0.0.1"}, func(k string) string { return vars[k] }, io.Discard, logs)
	}()
	t.Cleanup(func() {
		stop()
		<-served
		if t.Failed() {
			t.Logf("serve's log:\n%s", logs.String())
		}
	})
	waitReady(t, base+"/readyz")
	if !strings.Contains(logs.String(), `"query_exec_mode":"cache_describe"`) {
		t.Errorf("serve did not say it runs cache_describe behind the pooler; log:\n%s", logs.String())
	}

	// Postgres's side, sampled all along: the app's connections to its
	// database, which can only be the pooler's (the test's own direct
	// connections are named and left out).
	audit, err := pgxpool.New(context.Background(), db.URL+"&application_name=pooler-test-auditor&pool_max_conns=2")
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	var maxConns atomic.Int64
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var n int64
			audit.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
				WHERE datname = $1 AND backend_type = 'client backend' AND application_name <> 'pooler-test-auditor'`, db.Name).Scan(&n)
			if n > maxConns.Load() {
				maxConns.Store(n)
			}
			select {
			case <-sampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	c := &memberClient{t: t, base: base, sim: env.Sim}
	members := sd.Members
	exp := sd.Creator.ExperienceID
	const buys = 24
	var wg sync.WaitGroup
	for i := range buys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := members[i%len(members)].ID
			code, out := c.do("POST", "/api/charge", user, map[string]string{"experience_id": exp, "package": "starter"})
			if code != 200 {
				t.Errorf("charge: %d %v", code, out)
				return
			}
			if _, err := env.Sim.Pay(whopsim.Purchase{CheckoutID: out["id"].(string), PlanID: out["planId"].(string), UserID: user}); err != nil {
				t.Errorf("pay: %v", err)
			}
			// A dashboard load among the purchases: reports through the pooler too.
			if code, _ := c.do("GET", "/api/dashboard/"+sd.Creator.ID, sd.Admin.ID, nil); code != 200 {
				t.Errorf("dashboard: %d", code)
			}
		}()
	}
	wg.Wait()
	awaitCount(t, audit, `SELECT count(*) FROM purchases WHERE status = 'paid'`, buys)
	// Spends on every member's wallet, while River pays the shares.
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := members[i%len(members)].ID
			code, out := c.do("POST", "/api/spend", user, map[string]string{"experience_id": exp, "item": "sticker",
				"idempotency_key": fmt.Sprintf("pooled-%d", i)})
			if code != 200 {
				t.Errorf("spend: %d %v", code, out)
			}
		}()
	}
	wg.Wait()
	// Each sale in the creator's experience owes the creator 10 % of $4.99:
	// 49 cents, paid by River's workers, which poll rather than listen.
	awaitCount(t, audit, `SELECT count(*) FROM revenue_shares WHERE status = 'paid' AND transfer_amount = 49`, buys)
	code, out := c.do("POST", "/api/payouts", sd.Admin.ID, map[string]any{"company_id": sd.Creator.ID,
		"recipient": members[0].Username, "amount": "2.50", "idempotency_key": "pooled-payout"})
	if p, _ := out["payout"].(map[string]any); code != 200 || p["status"] != "paid" {
		t.Errorf("payout = %d %v, want 200 paid", code, out)
	}
	close(sampling)
	<-sampled

	var wallets, balances, spends int64
	if err := audit.QueryRow(context.Background(), `SELECT count(*), COALESCE(sum(balance), 0),
		(SELECT count(*) FROM spends) FROM wallets`).Scan(&wallets, &balances, &spends); err != nil {
		t.Fatal(err)
	}
	if want := int64(buys*100 - 12*5); balances != want || spends != 12 || wallets != int64(len(members)) {
		t.Errorf("wallets %d, balances %d, spends %d; want %d wallets, balances %d, 12 spends",
			wallets, balances, spends, len(members), want)
	}
	var payouts int64
	audit.QueryRow(context.Background(), `SELECT count(*) FROM payouts WHERE status = 'paid' AND amount = 250`).Scan(&payouts)
	if payouts != 1 {
		t.Errorf("%d paid payouts of $2.50, want 1", payouts)
	}
	if n := maxConns.Load(); n < 1 || n > poolerSize {
		t.Errorf("Postgres saw at most %d connections for the app's database; want 1 to %d, the pooler's size", n, poolerSize)
	}
	if n, err := pooler.ServerConnections(context.Background()); err != nil || n > poolerSize {
		t.Errorf("PgBouncer holds %d server connections (%v), want at most %d", n, err, poolerSize)
	}
	t.Logf("%d purchases, 12 spends, %d shares and a payout through PgBouncer; Postgres saw at most %d app connections",
		buys, buys, maxConns.Load())
}

// TestDefaultStatementModeBreaksBehindThePooler is the control for the
// test above: pgx's default mode, named prepared statements, fails behind
// Debian's PgBouncer in transaction mode. If it ever passes, the pooler
// carries named statements (1.21+ with max_prepared_statements), and
// cache_statement is worth offering by default.
func TestDefaultStatementModeBreaksBehindThePooler(t *testing.T) {
	pooler := pgtest.Pooler(t, 2)
	db := pgtest.New(t)
	pool, err := pgxpool.New(context.Background(), pooler.URL(db.Name)+"&pool_max_conns=8")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var wg sync.WaitGroup
	var failures atomic.Int64
	var first atomic.Value
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				var n int
				err := pool.QueryRow(context.Background(), `SELECT count(*)::int + $1 FROM wallets`, i*100+j).Scan(&n)
				if err != nil {
					failures.Add(1)
					first.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	if failures.Load() == 0 {
		t.Fatal("160 queries in pgx's default mode all worked through the pooler: it carries named prepared statements")
	}
	msg, _ := first.Load().(string)
	if !strings.Contains(msg, "prepared statement") {
		t.Errorf("first failure %q does not name a prepared statement", msg)
	}
	t.Logf("%d of 160 queries failed in cache_statement mode, e.g. %s", failures.Load(), msg)
}

// memberClient sends requests to the app as Whop's proxy would, with the
// user's token.
type memberClient struct {
	t    *testing.T
	base string
	sim  *whopsim.Sim
}

func (c *memberClient) do(method, path, user string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	tok, err := c.sim.Token(user)
	if err != nil {
		c.t.Errorf("token: %v", err)
		return 0, nil
	}
	req.Header.Set(whop.HeaderUserToken, tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// awaitCount waits up to 30 s for a counting query to reach want.
func awaitCount(t *testing.T, pool *pgxpool.Pool, sql string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var n int
	for time.Now().Before(deadline) {
		if err := pool.QueryRow(context.Background(), sql).Scan(&n); err == nil && n >= want {
			if n > want {
				t.Errorf("%s = %d, want %d", sql, n, want)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s = %d after 30 s, want %d", sql, n, want)
}

// TestMigrateUsesTheDirectURL: `creditkit migrate` runs on
// DATABASE_URL_DIRECT when it is set, never through DATABASE_URL (here a
// port nothing listens on, as good as a pooler for locks).
func TestMigrateUsesTheDirectURL(t *testing.T) {
	db := pgtest.NewEmpty(t)
	vars := map[string]string{
		"DATABASE_URL":        strings.Replace(closedURL(t), "http://", "postgres://u@", 1) + "/x?connect_timeout=2",
		"DATABASE_URL_DIRECT": db.URL,
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "up"}, func(k string) string { return vars[k] }, &stdout, &stderr); err != nil {
		t.Fatalf("migrate up: %v (%s)", err, stderr.String())
	}
	if want := fmt.Sprintf("version %d of %d, dirty=false", migrations.Latest(), migrations.Latest()); !strings.Contains(stdout.String(), want) {
		t.Errorf("migrate up printed %q, want %q", stdout.String(), want)
	}
}
