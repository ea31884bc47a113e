package server_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

var staleRe = regexp.MustCompile(`^These figures come from a read replica that is (\d+) s behind: the newest sales, payouts and webhook deliveries may not show yet\.$`)

// TestDashboardReadsTheReplica runs the app on a primary with a real
// streaming standby (pg_basebackup) as its read replica: the creator's
// dashboard is read there; with the standby's replay paused behind a new
// sale it shows the old figures and says how far behind they are; caught
// up, it says nothing; with the standby killed, the dashboard and the
// payment look-up read the primary and show everything.
func TestDashboardReadsTheReplica(t *testing.T) {
	rs := pgtest.NewReplicated(t)
	ctx := context.Background()
	replicaPool, err := pgxpool.New(ctx, rs.ReplicaURL+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replicaPool.Close)
	// The replica's lag is measured against this clock, which the test
	// moves ahead instead of waiting.
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	a := setup(t, onDatabase(rs.Primary), withReporting(func(primary *ledger.Store) *ledger.Reporting {
		return ledger.NewReporting(primary, ledger.NewStore(replicaPool), ledger.WithReportingClock(clock),
			ledger.WithReplicaRetry(time.Minute))
	}))
	admin, creator := a.env.Seed.Admin.ID, a.env.Seed.Creator.ID
	dashboard := func() *page {
		t.Helper()
		res, body := a.get("/dashboard/"+creator, admin)
		if res.StatusCode != 200 {
			t.Fatalf("dashboard: %d %s", res.StatusCode, body)
		}
		return parsePage(t, body)
	}
	replicaHas := func(paid int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			var n int
			replicaPool.QueryRow(ctx, `SELECT count(*) FROM purchases WHERE status = 'paid'`).Scan(&n)
			if n == paid {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the standby shows %d paid purchases after 15 s, want %d", n, paid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Caught up: read on the replica, nothing to say.
	a.buyIn(a.experience(), a.member(0), "starter")
	replicaHas(1)
	p := dashboard()
	if got := p.text("stat-gross"); got != "Taken $4.99 1 sale in 30 days" || p.has("replica-lag") {
		t.Errorf("caught up: taken %q, lag notice shown %t; want 1 sale and no notice", got, p.has("replica-lag"))
	}
	a.assertMetrics("read on the replica", `creditkit_reporting_reads_total{served_by="replica"} 2`,
		`creditkit_reporting_reads_total{served_by="primary"} 0`, `creditkit_replica_up 1`)

	// Behind: replay paused while a second sale streams in.
	if _, err := replicaPool.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	a.buyIn(a.experience(), a.member(1), "starter")
	awaitTrue(t, replicaPool, `SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()`)
	skew.Store(int64(30 * time.Second))
	p = dashboard()
	m := staleRe.FindStringSubmatch(p.text("replica-lag"))
	if m == nil {
		t.Fatalf("lag notice = %q", p.text("replica-lag"))
	}
	if n, _ := strconv.Atoi(m[1]); n < 30 || n > 110 {
		t.Errorf("the notice says %d s behind; the clock is 30 s past a sale made moments ago", n)
	}
	if got := p.text("stat-gross"); got != "Taken $4.99 1 sale in 30 days" {
		t.Errorf("behind: taken %q, want the replica's figures (1 sale), which the notice explains", got)
	}
	code, out, raw := a.call("GET", "/api/dashboard/"+creator, admin, nil)
	rep, _ := out["reports"].(map[string]any)
	if stale, _ := rep["stale_seconds"].(float64); code != 200 || rep["served_by"] != "replica" || stale < 30 {
		t.Errorf("JSON behind: %d reports %v (%s)", code, rep, raw)
	}
	t.Run("as the admin sees it", func(t *testing.T) { shootLagNotice(t, a, creator, admin) })

	// Caught up again.
	if _, err := replicaPool.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	skew.Store(0)
	replicaHas(2)
	p = dashboard()
	if got := p.text("stat-gross"); got != "Taken $9.98 2 sales in 30 days" || p.has("replica-lag") {
		t.Errorf("caught up again: taken %q, lag notice shown %t", got, p.has("replica-lag"))
	}

	// The standby killed: every report reads the primary.
	if err := rs.Standby.Crash(); err != nil {
		t.Fatal(err)
	}
	_, payment := a.buyIn(a.experience(), a.member(2), "starter")
	p = dashboard()
	if got := p.text("stat-gross"); got != "Taken $14.97 3 sales in 30 days" || p.has("replica-lag") {
		t.Errorf("replica down: taken %q, lag notice shown %t; want the primary's 3 sales", got, p.has("replica-lag"))
	}
	code, out, raw = a.call("GET", "/api/payments/"+payment+"?company_id="+creator, admin, nil)
	if pur, _ := out["purchase"].(map[string]any); code != 200 || pur["status"] != "paid" {
		t.Errorf("look-up with the replica down: %d %s", code, raw)
	}
	// Seven reads on the replica (the pages' rows and premium members, the
	// JSON; the browser's loads come on top), then three on the primary
	// once it was gone, all fallbacks.
	a.assertMetrics("replica down", fmt.Sprintf(`creditkit_reporting_reads_total{served_by="replica"} %d`, 7+browserReads),
		`creditkit_reporting_reads_total{served_by="primary"} 3`, `creditkit_reporting_fallbacks_total 3`,
		`creditkit_replica_up 0`)
}

// browserReads counts the replica reads the browser's page loads made (two
// each: the rows and the premium members), for the metrics' totals.
var browserReads int

// shootLagNotice opens the dashboard in Chromium, framed by the sandbox,
// while the replica is behind, and saves how the notice looks: light and
// dark at 1280 px, and at a phone's 375 px.
func shootLagNotice(t *testing.T, a *app, creator, admin string) {
	ctx := browsertest.New(t, browsertest.WithWindowSize(1280, 900))
	run(t, ctx, chromedp.Navigate(a.env.URL+"/?path="+url.QueryEscape("/dashboard/"+creator)+"&user="+admin))
	frame := browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="replica-lag"]`, "read replica that is", 10*time.Second)
	browserReads += 2
	shot(t, ctx, "light-1280")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("whopsim-theme").click()`)); err != nil {
		t.Fatal(err)
	}
	waitDark(t, frame, true)
	shot(t, ctx, "dark-1280")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 800)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the frame lay out again
	shot(t, ctx, "dark-375")
	if errs := browsertest.ConsoleErrors(frame); len(errs) > 0 {
		t.Errorf("console errors in the app: %v", errs)
	}
}

// awaitTrue waits up to 15 s for a boolean query to answer true.
func awaitTrue(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ok bool
		if err := pool.QueryRow(context.Background(), sql).Scan(&ok); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 15 s", sql)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
