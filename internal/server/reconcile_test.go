package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestReconcilerRepairsWhatWebhooksMissed: the success webhook of one
// purchase and the refund webhooks of another are lost; the reconciler finds
// both from Whop's payments list, and a second run changes nothing.
func TestReconcilerRepairsWhatWebhooksMissed(t *testing.T) {
	a := setup(t)
	user := a.member(0)

	// Fulfilled normally: the reconciler must leave it alone.
	ch, plan, done := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.settle()

	// Its webhook never arrives.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	ch, plan, lost := a.charge(user, "pro")
	a.pay(ch, plan, user)
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance before reconciling = %d, want 100 (the pro webhook was dropped)", b)
	}

	run, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if run.PaymentsSeen != 2 || run.Credited != 1 || run.Refunded != 0 || run.Rejected != 0 || run.Error != "" || run.ID == 0 {
		t.Fatalf("first run = %+v, want 2 seen, 1 credited", run)
	}
	if b := a.balance(user); b != 700 {
		t.Fatalf("balance after reconciling = %d, want 700", b)
	}
	p, _ := a.store.Purchase(a.ctx, lost)
	if p.Status != "paid" {
		t.Fatalf("lost purchase = %+v", p)
	}
	rej, _ := a.store.Purchase(a.ctx, done)
	if rej.Status != "paid" {
		t.Fatalf("fulfilled purchase = %+v", rej)
	}

	// Both refund deliveries of a full refund are lost too.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 2 })
	if err := a.sim.Refund(p.PaymentID, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 700 {
		t.Fatalf("balance = %d before the refund is reconciled", b)
	}
	run, err = a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || run.Credited != 0 || run.Refunded != 1 {
		t.Fatalf("second run = %+v, %v; want the refund applied", run, err)
	}
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after the reconciled refund = %d, want 100", b)
	}

	run, err = a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || run.Credited != 0 || run.Refunded != 0 {
		t.Fatalf("third run = %+v, %v; want nothing to repair", run, err)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries`); n != 3 {
		t.Fatalf("ledger entries = %d, want 3 (two purchases, one refund)", n)
	}
	runs, _ := a.store.ReconcilerRuns(a.ctx, 10)
	if len(runs) != 3 || runs[0].FinishedAt.IsZero() || !runs[1].WindowEnd.Before(runs[0].WindowEnd) ||
		!runs[0].WindowStart.Before(runs[1].WindowEnd) {
		t.Fatalf("runs = %+v: want three finished, each window starting before the previous one ended", runs)
	}
	tot, _ := a.store.ReconcilerTotals(a.ctx)
	if tot.Runs != 3 || tot.Failed != 0 || tot.Credited != 1 || tot.Refunded != 1 || tot.LastSuccess.IsZero() {
		t.Fatalf("totals = %+v", tot)
	}
}

// TestReconcilerFailureKeepsTheCheckpoint: a run that cannot list payments
// is recorded with its error, and the next run covers the same window.
func TestReconcilerFailureKeepsTheCheckpoint(t *testing.T) {
	a := setup(t)
	first, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 1; f.APIFailureStatus = 500 })
	failed, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err == nil || failed.Error == "" {
		t.Fatalf("run against a failing API = %+v, %v; want an error recorded", failed, err)
	}
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 0 })
	next, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !next.WindowStart.Before(first.WindowEnd) {
		t.Fatalf("after a failure the window starts at %v, want before the last success's end %v", next.WindowStart, first.WindowEnd)
	}
	tot, _ := a.store.ReconcilerTotals(a.ctx)
	if tot.Runs != 3 || tot.Failed != 1 {
		t.Fatalf("totals = %+v", tot)
	}
}

// TestMetricsShowReconcilerJobsAndTokenCache reads /metrics after work that
// moves each app-wide series.
func TestMetricsShowReconcilerJobsAndTokenCache(t *testing.T) {
	a := setup(t)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	user := a.member(0)
	ch, plan, _ := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.settle()
	if _, err := a.billing.Deliveries.Reconcile(a.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.jobs.Client().Insert(a.ctx, billing.ReconcileJob{}, nil); err != nil {
		t.Fatal(err)
	}
	// The same token twice: the second is answered from the cache.
	tok, _ := a.sim.Token(user)
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", a.url+"/experiences/"+a.experience(), nil)
		req.Header.Set(whop.HeaderUserToken, tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("page: %v %v", err, res)
		}
		res.Body.Close()
	}
	res, body := a.get("/metrics", "")
	if res.StatusCode != 200 {
		t.Fatalf("metrics %d", res.StatusCode)
	}
	for _, want := range []string{
		`creditkit_reconciler_runs_total{result="ok"} 1`,
		`creditkit_reconciler_repairs_total{kind="credited"} 1`,
		`creditkit_reconciler_repairs_total{kind="failed"} 0`,
		`creditkit_reconciler_payments_seen_total 1`,
		`creditkit_jobs{kind="reconcile",state="available"} 1`,
		`creditkit_jobs{kind="reconcile",state="running"} 0`,
		`creditkit_jobs{kind="reconcile",state="discarded"} 0`,
		`creditkit_user_token_cache_hits_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	st := a.tokens.Stats()
	if st.CacheHits < 1 || st.Verifications < 1 {
		t.Errorf("token stats = %+v: the repeated token should have hit the cache", st)
	}
}

// TestReconcilerReadsSettledPaymentsWithoutLocking: re-reading a payment
// that is already fulfilled takes no row lock, so a run over its overlap
// window neither waits behind nor blocks whatever holds the purchase (a
// webhook mid-transaction, here a test transaction holding it for update).
func TestReconcilerReadsSettledPaymentsWithoutLocking(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	ch, plan, id := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.settle()
	if _, err := a.billing.Deliveries.Reconcile(a.ctx); err != nil {
		t.Fatal(err)
	}

	tx, err := a.db.Pool.Begin(a.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(a.ctx)
	if _, err := tx.Exec(a.ctx, `SELECT 1 FROM purchases WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	// Waiting on the lock it would wait for ever: 10 s says so.
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	run, err := a.billing.Deliveries.Reconcile(ctx)
	if err != nil || run.PaymentsSeen != 1 || run.Credited != 0 || run.Refunded != 0 || run.Error != "" {
		t.Fatalf("run while the purchase is locked = %+v, %v; want it seen and left alone without waiting", run, err)
	}
	tx.Rollback(a.ctx)
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance = %d, want 100", b)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries`); n != 1 {
		t.Fatalf("ledger entries = %d, want 1", n)
	}
}

// TestReconcilerRecordsAFailureTheWebhookLost: a bank payment goes pending
// (payment.pending makes the purchase processing), then fails while the
// app is down, so payment.failed is lost. Without the reconciler the
// member's receipt would read "Processing" for good; its run records the
// failure as the webhook would have, and a second run changes nothing.
func TestReconcilerRecordsAFailureTheWebhookLost(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	ch, plan, pur := a.charge(user, "starter")
	bank := a.payPending(ch, plan, user)
	if p := a.purchase(pur); p.Status != ledger.PurchaseProcessing || p.FailureReason != "" || p.PaymentID != "" {
		t.Fatalf("after payment.pending: purchase %s %q %q, want processing", p.Status, p.FailureReason, p.PaymentID)
	}
	if got := a.receiptStatus(user, pur); got != "Processing" {
		t.Fatalf("while pending the receipt reads %q", got)
	}

	a.failLosingWebhook(bank)
	if p := a.purchase(pur); p.Status != ledger.PurchaseProcessing {
		t.Fatalf("with payment.failed lost: purchase %s, want still processing", p.Status)
	}

	run, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || run.Error != "" || run.PaymentsSeen != 1 || run.Credited != 0 || run.Refunded != 0 || run.Rejected != 0 ||
		run.Failures != 1 {
		t.Fatalf("run = %+v, %v; want the one failed payment seen and recorded, nothing credited", run, err)
	}
	p := a.purchase(pur)
	if p.Status != ledger.PurchaseFailed || p.FailureReason != "The bank declined the transfer." || p.PaymentID != "" ||
		p.PaidAmount != 0 || p.BuyerUsername != "alice" || a.balance(user) != 0 {
		t.Fatalf("after the run: purchase %s %q %q paid %d buyer %q, balance %d", p.Status, p.FailureReason, p.PaymentID,
			p.PaidAmount, p.BuyerUsername, a.balance(user))
	}
	if got := a.receiptStatus(user, pur); got != "Failed" {
		t.Fatalf("after the run the receipt reads %q, want Failed", got)
	}
	if code, status, _, html := a.returnPage(pur, user); code != 200 || status != "failed" ||
		!strings.Contains(html, "The bank declined the transfer.") {
		t.Fatalf("return = %d %q:\n%s", code, status, html)
	}

	// Again: the failure is the state recorded already; nothing is written
	// or counted.
	again, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || again.Error != "" || again.PaymentsSeen != 1 || again.Failures != 0 {
		t.Fatalf("second run = %+v, %v; want the failed payment seen, nothing recorded", again, err)
	}
	if q := a.purchase(pur); q.Status != ledger.PurchaseFailed || !q.UpdatedAt.Equal(p.UpdatedAt) {
		t.Fatalf("a second run changed the purchase: %s updated %v, was %v", q.Status, q.UpdatedAt, p.UpdatedAt)
	}
	// Both runs as kept, newest first, and the repair on /metrics.
	runs, err := a.store.ReconcilerRuns(a.ctx, 5)
	if err != nil || len(runs) != 2 || runs[0].Failures != 0 || runs[1].Failures != 1 || runs[1].PaymentsSeen != 1 ||
		runs[0].Error != "" || runs[1].Error != "" {
		t.Fatalf("runs = %+v, %v; want two, the first recording one failure", runs, err)
	}
	if res, body := a.get("/metrics", ""); res.StatusCode != 200 ||
		!strings.Contains(body, `creditkit_reconciler_repairs_total{kind="failed"} 1`+"\n") {
		t.Fatalf("metrics (%d) lack one failure recorded:\n%s", res.StatusCode, body)
	}
}

// TestReconcilerGrantsAPremiumPeriodWhoseWebhooksWereLost: every delivery
// of an upgrade is lost (the premium payment and the membership's), as a
// renewal's one payment webhook can be. Whop holds a valid membership; the
// reconciler, reading the paid payment, records it and grants the period's
// 50 credits, once: a second pass and the webhook arriving late grant
// nothing more.
func TestReconcilerGrantsAPremiumPeriodWhoseWebhooksWereLost(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 100 })
	mem := a.upgrade(user)
	a.settle()
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 0 })
	if n := a.count(`SELECT count(*) FROM webhook_deliveries`); n != 0 || len(a.grantEntries(user)) != 0 {
		t.Fatalf("deliveries %d, grants %d before reconciling; want none (all dropped)", n, len(a.grantEntries(user)))
	}
	wm, err := a.whop.GetMembership(a.ctx, mem)
	if err != nil || !wm.Valid {
		t.Fatalf("Whop's membership = %+v, %v; want valid", wm, err)
	}

	for pass := 1; pass <= 2; pass++ {
		run, err := a.billing.Deliveries.Reconcile(a.ctx)
		if err != nil || run.Error != "" || run.PaymentsSeen != 1 || run.Credited != 0 || run.Rejected != 0 {
			t.Fatalf("pass %d = %+v, %v", pass, run, err)
		}
		grants, err := a.store.PremiumGrants(a.ctx, mem)
		entries := a.grantEntries(user)
		if err != nil || len(grants) != 1 || len(entries) != 1 || a.balance(user) != 50 {
			t.Fatalf("after pass %d: grants %+v, entries %+v, balance %d, %v; want one of 50", pass, grants, entries, a.balance(user), err)
		}
		g := grants[0]
		if !g.PeriodStart.Equal(wm.RenewalPeriodStart.Truncate(time.Second)) || !g.PeriodEnd.Equal(wm.RenewalPeriodEnd) ||
			g.Credits != 50 || g.UserID != user || g.ExperienceID != a.experience() || g.DeliveryID != "" ||
			g.LedgerEntryID != entries[0].ID || entries[0].Amount != 50 || entries[0].Reference != mem {
			t.Fatalf("grant %+v, entry %+v", g, entries[0])
		}
	}
	if row := a.membershipRow(mem); row.Status != "active" || !row.Valid || row.UserID != user || row.ExperienceID != a.experience() {
		t.Fatalf("membership row = %+v", row)
	}
	_, body := a.get("/experiences/"+a.experience(), user)
	assertContains(t, "the member's page", body, "This period&#39;s 50 credits")

	if err := a.sim.Redeliver(lastEvent(t, a, "payment.succeeded").ID, 1); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if o := a.outcomes("payment.succeeded"); len(o) != 1 || o[0] != "membership "+mem+" active (already recorded)" {
		t.Fatalf("late webhook outcomes = %q", o)
	}
	if len(a.grantEntries(user)) != 1 || a.balance(user) != 50 {
		t.Fatalf("after the late webhook: grants %d, balance %d", len(a.grantEntries(user)), a.balance(user))
	}
}

// TestAPremiumPaymentOfAMembershipWhopDoesNotKnowIsRetried: a signed
// payment of the premium plan names a membership Whop answers 404 for.
// Right after a checkout Whop can answer so briefly, so the delivery is
// answered 5xx for Whop to send again, and nothing is granted or recorded
// (the reconciler, which reads the payment again, skips such a payment
// rather than hold its checkpoint: TestReconcilerSkipsAPremiumPaymentItCannotUse).
func TestAPremiumPaymentOfAMembershipWhopDoesNotKnowIsRetried(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 100 })
	a.upgrade(user)
	a.settle()
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 0 })
	var ev struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(lastEvent(t, a, "payment.succeeded").Body, &ev); err != nil || ev.Data.ID == "" {
		t.Fatalf("the premium payment's event: %+v, %v", ev, err)
	}
	p := a.simGet("/payments/" + ev.Data.ID)
	p["membership"] = map[string]any{"id": "mem_NoSuchOne0000", "status": "active"}
	code, raw := a.deliver(a.url, "msg_unknown_membership", "payment.succeeded", p)
	if code != 500 {
		t.Fatalf("delivery = %d %s, want 500 for Whop to retry", code, raw)
	}
	if n := a.count(`SELECT count(*) FROM webhook_deliveries WHERE id = 'msg_unknown_membership'`); n != 0 {
		t.Fatalf("the delivery was recorded (%d): a retry would be taken for a repeat", n)
	}
	if len(a.grantEntries(user)) != 0 || a.count(`SELECT count(*) FROM memberships`) != 0 {
		t.Fatalf("grants %d, memberships %d; want none", len(a.grantEntries(user)), a.count(`SELECT count(*) FROM memberships`))
	}
}
