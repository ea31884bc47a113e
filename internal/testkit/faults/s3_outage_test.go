//go:build faults

package faults

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// whopRetryWindow is how long Whop keeps retrying a delivery: 10 + 20 + 40 s.
const whopRetryWindow = 70 * time.Second

// TestPostgresOutageLongerThanWhopRetries is scenario 3: Postgres stops a
// fifth of the way through the storm and stays down until the sandbox has
// given up on every delivery it could not make, on Whop's real 10/20/40 s
// schedule. Meanwhile webhooks answer 5xx and nothing is written in part;
// once Postgres is back, the reconciler (every 2 s here) credits what the
// sender gave up on, and the books come out exact.
func TestPostgresOutageLongerThanWhopRetries(t *testing.T) {
	rep := newReport("scenario 3: Postgres down for longer than Whop's retry window")
	defer rep.print()
	const every = 2 * time.Second
	s := newStack(t, stackConfig{reconcileEvery: every})
	w := s.buy(stormPayments)
	plan := w.stormOrder(3)
	tr := s.startTraffic(w, 300, 0)
	s.storm(&plan)

	s.awaitAnswered(len(plan.order) / 5)
	_, atStop := s.lb.snapshot()
	stoppedAt := time.Now()
	if err := suite.cluster.Stop(); err != nil {
		t.Fatalf("stop Postgres: %v", err)
	}
	// Postgres is down now; what was acknowledged while it was stopping
	// could still commit. From here on, only deliveries already in flight
	// (at most the sender's concurrency) may get a first 2xx.
	_, atDown := s.lb.snapshot()
	restarted := false
	t.Cleanup(func() {
		if !restarted { // never leave the suite's cluster down for the next scenario
			suite.cluster.Start(context.Background())
		}
	})
	readyA, readyB := s.readyz(s.a), s.readyz(s.b)

	// Postgres stays down until every delivery has ended: delivered before
	// the stop, or given up after Whop's last retry.
	ds := s.awaitDeliveries(len(plan.order), 3*time.Minute)
	_, atRestart := s.lb.snapshot()
	if err := suite.cluster.Start(s.ctx); err != nil {
		t.Fatalf("start Postgres: %v", err)
	}
	restarted = true
	restartedAt := time.Now()
	outage := restartedAt.Sub(stoppedAt)
	alive := s.a.running() && s.b.running()
	members := tr.finish(true)

	// The reconciler now repairs what the sender gave up on.
	s.awaitPaid(int64(len(w.purchases)), 2*time.Minute)
	repairedIn := time.Since(restartedAt)
	// A quiet window of five periods, to count runs per period across both
	// replicas: bounded by the database's clock, which stamps the runs, so
	// a slow query at either end cannot stretch it.
	var windowFrom time.Time
	if err := s.pool.QueryRow(s.ctx, `SELECT now()`).Scan(&windowFrom); err != nil {
		t.Fatal(err)
	}
	windowTo := windowFrom.Add(5 * every)
	time.Sleep(time.Until(windowTo) + time.Second) // every run started in it is recorded
	runsInWindow := s.count(`SELECT count(*) FROM reconciler_runs WHERE started_at >= $1 AND started_at < $2`, windowFrom, windowTo)
	overlapping := s.count(`SELECT count(*) FROM reconciler_runs r1 JOIN reconciler_runs r2 ON r1.id < r2.id
		WHERE r2.started_at < r1.finished_at AND r1.started_at < r2.finished_at`)
	runs := s.count(`SELECT count(*) FROM reconciler_runs`)
	b := s.audit()

	// No run can start while Postgres is down: runs started after the stop
	// are the ones after the restart.
	reconciledAfter := s.count(`SELECT COALESCE(sum(credited), 0) FROM reconciler_runs WHERE started_at > $1`, stoppedAt)
	gaveUpEvents, repaired := s.neverDelivered(w, ds)
	fiveXX := atRestart.ServerError - atStop.ServerError

	rep.add("injected", "%d deliveries of %d events (%d duplicates, seed %d); Postgres stopped after %d answers, for %.1f s (Whop's retry window: %v, real schedule 10/20/40 s)",
		len(plan.order), plan.unique, plan.dups, plan.seed, atStop.OK, outage.Seconds(), whopRetryWindow)
	rep.add("during the outage", "webhooks answered %d×5xx, %d×2xx (%d first acknowledgements while Postgres was stopping, %d in flight once it was down, %d repeats of deliveries recorded before it, answered from the replica's memory), %d other, %d unreachable; /readyz A %d, B %d; replicas alive: %t",
		fiveXX, atRestart.OK-atStop.OK, atDown.FirstOK-atStop.FirstOK, atRestart.FirstOK-atDown.FirstOK, (atRestart.OK-atStop.OK)-(atRestart.FirstOK-atStop.FirstOK),
		atRestart.Other-atStop.Other, atRestart.Unreachable-atStop.Unreachable, readyA, readyB, alive)
	rep.add("sender", "%d attempts, %d delivered, %d retries, %d deliveries given up (%d events never delivered); statuses %v",
		ds.Attempts, ds.Delivered, ds.Retries, ds.GaveUp, gaveUpEvents, ds.Statuses)
	rep.add("members", "%d spends, %d refused for credits, %d failed (database down)", members.SpendOK, members.SpendShort, members.SpendFailed)
	rep.add("reconciler", "credited %d purchases within %.1f s of Postgres returning, %d in all; %d of the %d never-delivered events had no webhook credit and were its repairs",
		reconciledAfter, repairedIn.Seconds(), b.Reconciled, repaired, gaveUpEvents)
	rep.add("one per period", "%d runs in a quiet %v with both replicas scheduling every %v; %d runs in all, %d overlapping pairs",
		runsInWindow, 5*every, every, runs, overlapping)
	rep.add("credits", "expected %d, found %d; %d paid purchases of %d; fulfilled by webhook %d, reconciler %d (all runs)",
		w.totalCredits(), b.CreditsBought, b.PaidPurchases, len(w.purchases), b.WebhookCredits, b.Reconciled)
	rep.add("books", "%d wallets, balances %d = bought %d − spent %d; %d problems",
		b.Wallets, b.Balances, b.CreditsBought, b.CreditsSpent, len(b.Problems))

	if outage <= whopRetryWindow {
		t.Errorf("the outage lasted %v, not longer than Whop's retry window %v", outage, whopRetryWindow)
	}
	if !alive {
		t.Errorf("a replica died while Postgres was down")
	}
	if readyA != http.StatusServiceUnavailable || readyB != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: A %d, B %d; want 503", readyA, readyB)
	}
	// While Postgres is down nothing new may be acknowledged (beyond what
	// was in flight when it went down); a repeat of a delivery already
	// committed may be, from the replica's memory: its work is durably done.
	if fiveXX == 0 || atRestart.Other != atStop.Other || atRestart.Unreachable != atStop.Unreachable || atRestart.FirstOK-atDown.FirstOK > webhookConcurrency {
		t.Errorf("during the outage webhooks answered %+v (from %+v, %+v once down): want 5xx, or 2xx only for repeats of deliveries already recorded or at most %d in flight",
			atRestart, atStop, atDown, webhookConcurrency)
	}
	if ds.GaveUp == 0 || gaveUpEvents == 0 {
		t.Errorf("the sender gave up on nothing (%+v): the outage did not outlast the retries", ds.summary())
	}
	if reconciledAfter == 0 || repaired == 0 || repaired > b.Reconciled {
		t.Errorf("the reconciler credited %d after Postgres returned (%d in all); %d never-delivered events had no webhook credit: want the reconciler to have repaired them",
			reconciledAfter, b.Reconciled, repaired)
	}
	if b.WebhookCredits+b.Reconciled != int64(len(w.purchases)) {
		t.Errorf("webhooks fulfilled %d and the reconciler %d: together they must account for all %d purchases",
			b.WebhookCredits, b.Reconciled, len(w.purchases))
	}
	if b.PaidPurchases != int64(len(w.purchases)) || b.CreditsBought != w.totalCredits() {
		t.Errorf("paid %d purchases for %d credits, want %d for %d", b.PaidPurchases, b.CreditsBought, len(w.purchases), w.totalCredits())
	}
	s.assertWalletCredits(w)
	// Five periods fit in the window, six boundaries at most, and one run
	// enqueued just before it may start just inside (workers poll every
	// 500 ms): seven. Two replicas each running every period would be ten.
	if maxRuns := int64(5) + 2; runsInWindow > maxRuns {
		t.Errorf("%d reconciler runs in %v with a %v interval: want at most %d, one per period across both replicas",
			runsInWindow, 5*every, every, maxRuns)
	}
	if overlapping != 0 {
		t.Errorf("%d pairs of reconciler runs overlapped in time: periodic work must run once at a time", overlapping)
	}
	if b.Spends < members.SpendOK || b.Spends > members.SpendOK+members.SpendFailed {
		t.Errorf("%d spends recorded; members were answered %d and failed %d", b.Spends, members.SpendOK, members.SpendFailed)
	}
}

// neverDelivered counts the events the sender gave up on without ever
// delivering, and how many of their purchases no webhook credited (the
// others committed just before the stop, their answer lost): with no
// confirm calls in this scenario, only the reconciler can have paid those.
func (s *stack) neverDelivered(w *workload, ds deliveryStats) (events int, repairedByReconciler int64) {
	s.t.Helper()
	byWebhook := map[string]bool{}
	var id string
	s.eachRow(`SELECT object_id FROM webhook_deliveries WHERE outcome LIKE 'fulfilled%'`, []any{&id},
		func() { byWebhook[id] = true })
	for _, p := range w.purchases {
		if ds.GaveUpEvent[p.EventID] > 0 && !ds.OKEvent[p.EventID] {
			events++
			if !byWebhook[p.PaymentID] {
				repairedByReconciler++
			}
		}
	}
	return events, repairedByReconciler
}

// readyz returns a replica's /readyz status.
func (s *stack) readyz(r *replica) int {
	res, err := s.client.Get(r.url() + "/readyz")
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// awaitPaid waits until n purchases are paid.
func (s *stack) awaitPaid(n int64, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var paid int64
		err := s.pool.QueryRow(s.ctx, `SELECT count(*) FROM purchases WHERE status = 'paid'`).Scan(&paid)
		if err == nil && paid >= n {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%d of %d purchases paid %v after Postgres returned (last error %v)", paid, n, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
