//go:build faults

package faults

import (
	"testing"
	"time"
)

// TestKillReplicaMidStorm is scenario 2: replica B is killed with SIGKILL
// a third of the way through the storm and restarted a moment later, and at
// two thirds replica A is restarted the way a deploy does it (SIGTERM, then
// a new process). The deliveries either swallowed get no 2xx, so the
// sandbox retries them on Whop's schedule; in the end credits are exact and
// nothing is half-written.
func TestKillReplicaMidStorm(t *testing.T) {
	rep := newReport("scenario 2: kill -9 of a replica mid-storm, then a rolling restart")
	defer rep.print()
	s := newStack(t, stackConfig{reconcileEvery: 24 * time.Hour})
	w := s.buy(stormPayments)
	plan := w.stormOrder(2)
	tr := s.startTraffic(w, 500, 0)
	s.storm(&plan)

	// Kill when a third of the storm has been answered: requests are in
	// flight on B, some mid-transaction, some committed but unanswered.
	s.awaitAnswered(len(plan.order) / 3)
	_, atKill := s.lb.snapshot()
	killedAt := time.Now()
	s.b.kill9()
	down := 2 * time.Second
	time.Sleep(down) // B stays dead for a while: its share of the storm fails
	s.b.start()
	restartTook := time.Since(killedAt)

	// A deploy of A: in-flight requests finish, new ones are refused until
	// the new process listens.
	s.awaitAnswered(2 * len(plan.order) / 3)
	_, atDeploy := s.lb.snapshot()
	s.a.stop()
	s.a.start()

	ds := s.awaitDeliveries(len(plan.order), 3*time.Minute)
	members := tr.finish(false)
	per, lb := s.lb.snapshot()
	b := s.audit()

	rep.add("injected", "%d deliveries of %d events (%d duplicates, seed %d); SIGKILL to replica B after %d answers, restarted after %.1f s (Whop's retries: 10 s, 20 s, 40 s)",
		len(plan.order), plan.unique, plan.dups, plan.seed, atKill.OK, restartTook.Seconds())
	rep.add("kills", "1 SIGKILL (replica B started %d times); 1 SIGTERM restart of replica A after %d answers (A started %d times)",
		s.b.starts, atDeploy.OK, s.a.starts)
	rep.add("sender", "%d attempts, %d delivered, %d retries, %d gave up; statuses %v",
		ds.Attempts, ds.Delivered, ds.Retries, ds.GaveUp, ds.Statuses)
	rep.add("replicas answered", "A %d×2xx %d×5xx, B %d×2xx %d×5xx, %d unreachable (B killed or A restarting)",
		per[0].OK, per[0].ServerError, per[1].OK, per[1].ServerError, lb.Unreachable)
	rep.add("members", "%d spends, %d replays, %d refused for credits, %d unanswered (B killed or A restarting), %d conflicts",
		members.SpendOK, members.SpendReplayed, members.SpendShort, members.SpendFailed, members.SpendConflict)
	rep.add("credits", "expected %d, found %d; %d paid purchases of %d; fulfilled by webhook %d, reconciler %d",
		w.totalCredits(), b.CreditsBought, b.PaidPurchases, len(w.purchases), b.WebhookCredits, b.Reconciled)
	rep.add("half-written rows", "%d deliveries in 'processing', %d problems in the books", s.count(
		`SELECT count(*) FROM webhook_deliveries WHERE outcome = 'processing'`), len(b.Problems))
	rep.add("books", "%d wallets, balances %d = bought %d − spent %d", b.Wallets, b.Balances, b.CreditsBought, b.CreditsSpent)

	if lb.Unreachable == 0 || ds.Retries == 0 {
		t.Errorf("the kill cost no delivery (%d unreachable, %d retries): it did not land mid-storm", lb.Unreachable, ds.Retries)
	}
	if ds.Deliveries != len(plan.order) || ds.Delivered != len(plan.order) || ds.GaveUp != 0 {
		t.Errorf("sender = %+v: every delivery should end delivered once B is back", ds.summary())
	}
	if b.PaidPurchases != int64(len(w.purchases)) || b.CreditsBought != w.totalCredits() {
		t.Errorf("paid %d purchases for %d credits, want %d for %d", b.PaidPurchases, b.CreditsBought, len(w.purchases), w.totalCredits())
	}
	s.assertWalletCredits(w)
	if b.Reconciled != 0 || b.WebhookCredits != int64(len(w.purchases)) {
		t.Errorf("webhooks fulfilled %d, the reconciler %d: the sender's retries alone must repair a crash", b.WebhookCredits, b.Reconciled)
	}
	// A spend B took but could not answer may or may not have committed;
	// every answered one must be there, and nothing beyond the unanswered.
	if b.Spends < members.SpendOK || b.Spends > members.SpendOK+members.SpendFailed || members.SpendConflict != 0 {
		t.Errorf("%d spends recorded; members were answered %d and left unanswered %d", b.Spends, members.SpendOK, members.SpendFailed)
	}
}

// awaitAnswered waits until the replicas have answered n deliveries.
func (s *stack) awaitAnswered(n int) {
	s.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, lb := s.lb.snapshot(); lb.OK >= n {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("fewer than %d deliveries answered in 2 minutes", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
