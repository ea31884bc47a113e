package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// premiumPayment returns the payment of membership mem Whop made for the
// billing reason (subscription_create: the upgrade; subscription_cycle: a
// renewal), the newest if several.
func (a *app) premiumPayment(mem, reason string) string {
	a.t.Helper()
	id := ""
	var seq int64
	for _, p := range a.sim.Payments() {
		if p.MembershipID == mem && p.BillingReason == reason && p.Seq > seq {
			id, seq = p.ID, p.Seq
		}
	}
	if id == "" {
		a.t.Fatalf("no %s payment of %s", reason, mem)
	}
	return id
}

// premiumMember upgrades the first member, lets every webhook land, and
// returns the member, the premium membership and the upgrade's payment.
func (a *app) premiumMember() (user, mem, pay string) {
	a.t.Helper()
	user = a.member(0)
	mem = a.upgrade(user)
	a.settle()
	return user, mem, a.premiumPayment(mem, "subscription_create")
}

// premiumGrants returns a membership's grants, oldest period first.
func (a *app) premiumGrants(mem string) []ledger.PremiumGrant {
	a.t.Helper()
	g, err := a.store.PremiumGrants(a.ctx, mem)
	if err != nil {
		a.t.Fatal(err)
	}
	return g
}

// entries returns user's ledger in the creator's experience, oldest first.
func (a *app) entries(user string) []ledger.Entry {
	a.t.Helper()
	e, err := a.store.Entries(a.ctx, a.experience(), user)
	if err != nil {
		a.t.Fatal(err)
	}
	return e
}

// wantEntry is what a test expects of a ledger entry.
type wantEntry struct {
	kind      ledger.EntryKind
	amount    int64
	after     int64
	reference string
	key       string // "" for a grant's, whose key is its period's
}

func assertEntries(t *testing.T, got []ledger.Entry, want ...wantEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("ledger = %+v\nwant %d entries: %+v", got, len(want), want)
	}
	for i, w := range want {
		e := got[i]
		if e.Kind != w.kind || e.Amount != w.amount || e.BalanceAfter != w.after || e.Reference != w.reference ||
			(w.key != "" && e.IdempotencyKey != w.key) || (w.key == "" && !strings.HasPrefix(e.IdempotencyKey, "grant:"+w.reference+":")) {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
}

// upgradeDeliveries are the ids of an upgrade's two deliveries (its
// payment's and its membership's): whichever lands first grants the period.
func upgradeDeliveries(t *testing.T, a *app) []string {
	t.Helper()
	return []string{lastEvent(t, a, "payment.succeeded").ID, lastEvent(t, a, "membership.activated").ID}
}

// assertGrant checks every field of a premium grant a test can know; its
// delivery must be one of deliveries.
func assertGrant(t *testing.T, a *app, g ledger.PremiumGrant, mem, user string, entryID int64, deliveries []string, payment string, refunded, takenBack int64) {
	t.Helper()
	if g.MembershipID != mem || g.UserID != user || g.ExperienceID != a.experience() || g.Credits != premiumCredits ||
		g.LedgerEntryID != entryID || !slices.Contains(deliveries, g.DeliveryID) || g.PaymentID != payment ||
		g.RefundedAmount != refunded || g.RefundedCredits != takenBack || g.ID == 0 || g.CreatedAt.IsZero() ||
		g.PeriodStart.IsZero() || !g.PeriodEnd.After(g.PeriodStart) {
		t.Errorf("grant = %+v\nwant membership %s, user %s, entry %d, delivery of %q, payment %q, refunded %d, taken back %d",
			g, mem, user, entryID, deliveries, payment, refunded, takenBack)
	}
}

func premiumKey(g ledger.PremiumGrant, total int64) string {
	return "premium_refund:" + strconv.FormatInt(g.ID, 10) + ":" + strconv.FormatInt(total, 10)
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// activityRow returns the cells of a ledger entry's row on the member's
// activity page.
func (a *app) activityRow(user string, entryID int64) []string {
	a.t.Helper()
	_, body := a.get("/experiences/"+a.experience()+"/activity", user)
	return parsePage(a.t, body).cells("entry-" + strconv.FormatInt(entryID, 10))
}

// historyRow returns the row of a ledger entry in the member's CSV export.
func (a *app) historyRow(user string, entryID int64) map[string]string {
	a.t.Helper()
	res, recs := a.csvFile("/experiences/"+a.experience()+"/activity.csv", user)
	if res.StatusCode != 200 {
		a.t.Fatalf("activity.csv = %d", res.StatusCode)
	}
	for _, r := range byColumn(recs) {
		if r["entry_id"] == strconv.FormatInt(entryID, 10) {
			return r
		}
	}
	a.t.Fatalf("activity.csv has no entry %d: %q", entryID, recs)
	return nil
}

// TestARenewalRefundTakesBackItsOwnPeriod: a member upgrades, Whop renews
// the membership, and the renewal's payment is refunded in full. Exactly
// the renewed period's 50 credits go back, not the first period's; both
// payments are tied to their own periods; the member's history, export and
// premium card say what happened.
func TestARenewalRefundTakesBackItsOwnPeriod(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	mem := a.upgrade(user)
	a.settle()
	pay1, upgraded := a.premiumPayment(mem, "subscription_create"), upgradeDeliveries(t, a)
	// A period is keyed by its start to the second: a renewal in the same
	// second as the upgrade would be the same period.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	pay2, err := a.sim.RenewMembership(mem)
	if err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after the renewal = %d, want 100", b)
	}
	renewal := lastEvent(t, a, "payment.succeeded")

	if err := a.sim.Refund(pay2, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 50 {
		t.Fatalf("balance after refunding the renewal = %d, want 50 (the first period's)", b)
	}
	grants := a.premiumGrants(mem)
	if len(grants) != 2 {
		t.Fatalf("grants = %+v, want two periods", grants)
	}
	entries := a.entries(user)
	assertEntries(t, entries,
		wantEntry{ledger.KindGrant, 50, 50, mem, ""},
		wantEntry{ledger.KindGrant, 50, 100, mem, ""},
		wantEntry{ledger.KindRefund, -50, 50, pay2, premiumKey(grants[1], 50)})
	assertGrant(t, a, grants[0], mem, user, entries[0].ID, upgraded, pay1, 0, 0)
	assertGrant(t, a, grants[1], mem, user, entries[1].ID, []string{renewal.ID}, pay2, 999, 50)

	period := day(grants[1].PeriodStart)
	wantOutcomes := map[string][]string{
		"refund.created": {"membership " + mem + " active (already recorded); took back 50 credits of the period from " +
			period + " (payment " + pay2 + " reversed)"},
		"refund.updated": {"membership " + mem + " active (already recorded)"},
	}
	for typ, w := range wantOutcomes {
		if got := a.outcomes(typ); strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("%s outcomes = %q\nwant %q", typ, got, w)
		}
	}

	row := a.activityRow(user, entries[2].ID)
	if len(row) != 4 || !strings.HasPrefix(row[1], "Premium credits taken back: the payment was refunded") ||
		!strings.Contains(row[1], "For the period from "+grants[1].PeriodStart.UTC().Format("Jan 2, 2006")) ||
		row[2] != "−50" || row[3] != "50" {
		t.Errorf("activity row = %q", row)
	}
	h := a.historyRow(user, entries[2].ID)
	if h["type"] != "premium_refund" || h["credits"] != "-50" || h["balance_after"] != "50" || h["amount"] != "0" ||
		h["currency"] != "" || h["reference"] != mem || h["description"] != "premium period from "+period {
		t.Errorf("export row = %v", h)
	}
	_, body := a.get("/experiences/"+a.experience(), user)
	assertContains(t, "the member's page", body, "This period&#39;s 50 credits were added on "+
		grants[1].CreatedAt.UTC().Format("Jan 2, 2006")+"; they were taken back when its payment was refunded or charged back.")
}

// TestAPartialPremiumRefundThenALostDisputeTakeBackTheRest: 2.99 of the
// 9.99 premium payment is refunded (15 of its 50 credits, rounded up), then
// the rest is disputed and lost: the other 35 go, each take-back its own
// entry, the grant keeping the running totals.
func TestAPartialPremiumRefundThenALostDisputeTakeBackTheRest(t *testing.T) {
	a := setup(t)
	user, mem, pay := a.premiumMember()

	if err := a.sim.Refund(pay, 299); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 35 {
		t.Fatalf("balance after refunding 2.99 of 9.99 = %d, want 35 (15 taken back)", b)
	}
	g := a.premiumGrants(mem)
	if len(g) != 1 || g[0].RefundedAmount != 299 || g[0].RefundedCredits != 15 {
		t.Fatalf("grant after the partial refund = %+v", g)
	}

	a.decideDispute(pay, "lost")
	if b := a.balance(user); b != 0 {
		t.Fatalf("balance after the lost dispute = %d, want 0", b)
	}
	g = a.premiumGrants(mem)
	entries := a.entries(user)
	assertEntries(t, entries,
		wantEntry{ledger.KindGrant, 50, 50, mem, ""},
		wantEntry{ledger.KindRefund, -15, 35, pay, premiumKey(g[0], 15)},
		wantEntry{ledger.KindRefund, -35, 0, pay, premiumKey(g[0], 50)})
	assertGrant(t, a, g[0], mem, user, entries[0].ID, upgradeDeliveries(t, a), pay, 999, 50)
	if o := a.outcomes("dispute.updated"); len(o) != 1 || o[0] != "dispute lost" {
		t.Errorf("dispute.updated outcomes = %q", o)
	}
	if row := a.activityRow(user, entries[2].ID); len(row) != 4 ||
		!strings.HasPrefix(row[1], "Premium credits taken back: the payment was charged back") || row[2] != "−35" {
		t.Errorf("activity row = %q", row)
	}
	if h := a.historyRow(user, entries[2].ID); h["type"] != "premium_chargeback" || h["credits"] != "-35" || h["reference"] != mem {
		t.Errorf("export row = %v", h)
	}
}

// TestAPremiumRefundIsTakenBackOnceHoweverItIsSeen: the refund's webhook
// comes again with its id, again as a new event, and the reconciler reads
// the refunded payment too: 50 credits go back once. Then, for another
// member, every refund webhook is lost and the reconciler takes the
// credits back itself, counting the repair on its run, once.
func TestAPremiumRefundIsTakenBackOnceHoweverItIsSeen(t *testing.T) {
	a := setup(t)
	user, mem, pay := a.premiumMember()
	if err := a.sim.Refund(pay, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	created := lastEvent(t, a, "refund.created")
	if err := a.sim.Redeliver(created.ID, 2); err != nil {
		t.Fatal(err)
	}
	var delivery int64
	for _, at := range a.sim.Deliveries() {
		if at.EventID == created.ID {
			delivery = at.Delivery
		}
	}
	if _, err := a.sim.Resend(delivery, true); err != nil {
		t.Fatal(err)
	}
	a.settle()
	run, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || run.Error != "" || run.Refunded != 0 {
		t.Fatalf("reconciler run = %+v, %v; want nothing repaired", run, err)
	}
	if b := a.balance(user); b != 0 {
		t.Fatalf("balance = %d, want 0", b)
	}
	g := a.premiumGrants(mem)
	assertEntries(t, a.entries(user),
		wantEntry{ledger.KindGrant, 50, 50, mem, ""},
		wantEntry{ledger.KindRefund, -50, 0, pay, premiumKey(g[0], 50)})
	if o := a.outcomes("refund.created"); len(o) != 2 || !strings.Contains(o[0], "took back 50 credits") ||
		o[1] != "membership "+mem+" active (already recorded)" {
		t.Errorf("refund.created outcomes = %q", o)
	}

	// Another member's refund, every webhook of it lost.
	other := a.member(1)
	mem2 := a.upgrade(other)
	a.settle()
	pay2 := a.premiumPayment(mem2, "subscription_create")
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 2 })
	if err := a.sim.Refund(pay2, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(other); b != 50 {
		t.Fatalf("balance with the refund's webhooks lost = %d, want 50", b)
	}
	first, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || first.Error != "" || first.Refunded != 1 {
		t.Fatalf("reconciler run = %+v, %v; want one refund repaired", first, err)
	}
	second, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || second.Refunded != 0 {
		t.Fatalf("second run = %+v, %v; want nothing more", second, err)
	}
	runs, err := a.store.ReconcilerRuns(a.ctx, 3)
	if err != nil || len(runs) != 3 || runs[1].ID != first.ID || runs[1].Refunded != 1 || runs[0].Refunded != 0 {
		t.Fatalf("recorded runs = %+v, %v", runs, err)
	}
	g2 := a.premiumGrants(mem2)
	assertEntries(t, a.entries(other),
		wantEntry{ledger.KindGrant, 50, 50, mem2, ""},
		wantEntry{ledger.KindRefund, -50, 0, pay2, premiumKey(g2[0], 50)})
	assertGrant(t, a, g2[0], mem2, other, a.entries(other)[0].ID, upgradeDeliveries(t, a), pay2, 999, 50)
}

// TestAPremiumRefundBeforeItsPaymentSucceeded: the upgrade is paid and
// refunded before any of its webhooks lands, and they arrive refund first.
// The refund's delivery grants the period (the membership is valid) and
// takes it back in the same transaction; the payment's and membership's
// deliveries that follow change nothing.
func TestAPremiumRefundBeforeItsPaymentSucceeded(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	url, scheme := a.sim.Webhook()
	if err := a.sim.SetWebhook("", scheme); err != nil {
		t.Fatal(err)
	}
	mem := a.upgrade(user)
	pay := a.premiumPayment(mem, "subscription_create")
	if err := a.sim.Refund(pay, 0); err != nil {
		t.Fatal(err)
	}
	a.settle() // what was sent went nowhere
	if err := a.sim.SetWebhook(url, scheme); err != nil {
		t.Fatal(err)
	}
	updated, created := lastEvent(t, a, "refund.updated"), lastEvent(t, a, "refund.created")
	succeeded, activated := lastEvent(t, a, "payment.succeeded"), lastEvent(t, a, "membership.activated")
	if err := a.sim.Deliver([]string{updated.ID, created.ID, succeeded.ID, activated.ID}, false); err != nil {
		t.Fatal(err)
	}
	a.settle()

	if b := a.balance(user); b != 0 {
		t.Fatalf("balance = %d, want 0: the period's 50 granted and taken back", b)
	}
	g := a.premiumGrants(mem)
	entries := a.entries(user)
	if len(g) != 1 {
		t.Fatalf("grants = %+v", g)
	}
	assertEntries(t, entries,
		wantEntry{ledger.KindGrant, 50, 50, mem, ""},
		wantEntry{ledger.KindRefund, -50, 0, pay, premiumKey(g[0], 50)})
	// Whichever refund delivery lands first grants the period and takes it
	// back; the other finds both done.
	first, second := updated, created
	if g[0].DeliveryID == created.ID {
		first, second = created, updated
	}
	assertGrant(t, a, g[0], mem, user, entries[0].ID, []string{updated.ID, created.ID}, pay, 999, 50)
	want := map[string]string{
		first.ID: "membership " + mem + " active; granted 50 credits; took back 50 credits of the period from " +
			day(g[0].PeriodStart) + " (payment " + pay + " reversed)",
		second.ID:    "membership " + mem + " active (already recorded)",
		succeeded.ID: "membership " + mem + " active (already recorded)",
		activated.ID: "membership " + mem + " active (already recorded)",
	}
	for id, w := range want {
		if got, _ := a.delivery(id); got != w {
			t.Errorf("delivery %s outcome = %q\nwant %q", id, got, w)
		}
	}
}

// TestALostPremiumDisputeAfterSpendingLeavesTheBalanceNegative: the member
// spends 20 of the period's 50 credits, then loses the payment to a
// chargeback: all 50 go, the balance is −20 and cannot spend.
func TestALostPremiumDisputeAfterSpendingLeavesTheBalanceNegative(t *testing.T) {
	a := setup(t)
	exp := a.experience()
	user, mem, pay := a.premiumMember()
	if code, _, raw := a.call("POST", "/api/spend", user, map[string]string{
		"experience_id": exp, "item": "boost", "idempotency_key": "boost-1"}); code != 200 {
		t.Fatalf("spend: %d %s", code, raw)
	}

	a.decideDispute(pay, "lost")
	if b := a.balance(user); b != -20 {
		t.Fatalf("balance after the lost dispute = %d, want -20", b)
	}
	g := a.premiumGrants(mem)
	entries := a.entries(user)
	if len(entries) != 3 || entries[1].Kind != ledger.KindSpend || entries[1].Amount != -20 {
		t.Fatalf("ledger = %+v", entries)
	}
	assertEntries(t, []ledger.Entry{entries[0], entries[2]},
		wantEntry{ledger.KindGrant, 50, 50, mem, ""},
		wantEntry{ledger.KindRefund, -50, -20, pay, premiumKey(g[0], 50)})
	assertGrant(t, a, g[0], mem, user, entries[0].ID, upgradeDeliveries(t, a), pay, 999, 50)

	code, out, raw := a.call("POST", "/api/spend", user, map[string]string{
		"experience_id": exp, "item": "sticker", "idempotency_key": "sticker-1"})
	if code != 409 || fmt.Sprint(out["error"].(map[string]any)["balance"]) != "-20" {
		t.Errorf("spend with a negative balance = %d %s, want 409 with the balance", code, raw)
	}
	row := a.activityRow(user, entries[2].ID)
	if len(row) != 4 || !strings.HasPrefix(row[1], "Premium credits taken back: the payment was charged back") ||
		!strings.Contains(row[1], "The payment was disputed and the dispute went to the buyer.") ||
		row[2] != "−50" || row[3] != "−20" {
		t.Errorf("activity row = %q", row)
	}
	if h := a.historyRow(user, entries[2].ID); h["type"] != "premium_chargeback" || h["credits"] != "-50" ||
		h["balance_after"] != "-20" || h["reference"] != mem || h["description"] != "premium period from "+day(g[0].PeriodStart) {
		t.Errorf("export row = %v", h)
	}
}

// TestAReversalOfAPeriodNeverGrantedTakesNothingUntilItIs: Whop ends the
// membership and refunds its payment before any webhook lands, and only
// the refund's arrives. No period was granted, so nothing is taken back,
// the delivery is answered and says so. The membership's activation then
// arrives late and grants the period from its own data; the reconciler,
// reading the refunded payment, takes those credits back.
func TestAReversalOfAPeriodNeverGrantedTakesNothingUntilItIs(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	url, scheme := a.sim.Webhook()
	if err := a.sim.SetWebhook("", scheme); err != nil {
		t.Fatal(err)
	}
	mem := a.upgrade(user)
	pay := a.premiumPayment(mem, "subscription_create")
	time.Sleep(5 * time.Millisecond) // the cancellation must be a later state than the activation
	if err := a.sim.DeactivateMembership(mem); err != nil {
		t.Fatal(err)
	}
	if err := a.sim.Refund(pay, 0); err != nil {
		t.Fatal(err)
	}
	a.settle() // what was sent went nowhere
	if err := a.sim.SetWebhook(url, scheme); err != nil {
		t.Fatal(err)
	}
	created := lastEvent(t, a, "refund.created")
	if err := a.sim.Deliver([]string{created.ID}, false); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if o := a.outcomes("refund.created"); len(o) != 1 || o[0] != "membership "+mem+" canceled; payment "+pay+
		" was reversed but paid for no period granted: nothing taken back" {
		t.Fatalf("refund.created outcomes = %q", o)
	}
	if b, n := a.balance(user), len(a.entries(user)); b != 0 || n != 0 {
		t.Fatalf("balance %d, %d entries; want nothing", b, n)
	}

	if err := a.sim.Deliver([]string{lastEvent(t, a, "membership.activated").ID}, false); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 50 {
		t.Fatalf("balance after the late activation = %d, want its 50", b)
	}
	run, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || run.Refunded != 1 {
		t.Fatalf("reconciler run = %+v, %v; want the take-back repaired", run, err)
	}
	g := a.premiumGrants(mem)
	entries := a.entries(user)
	assertEntries(t, entries,
		wantEntry{ledger.KindGrant, 50, 50, mem, ""},
		wantEntry{ledger.KindRefund, -50, 0, pay, premiumKey(g[0], 50)})
	assertGrant(t, a, g[0], mem, user, entries[0].ID, []string{lastEvent(t, a, "membership.activated").ID}, pay, 999, 50)
}

// TestTheReconcilerTiesEachLostPaymentToItsOwnPeriod: the upgrade's and
// the renewal's payment.succeeded are both lost, and the reconciler meets
// the two payments in one pass. The first period's grant still reads as
// running when the renewal starts the next (the sandbox renews at once),
// so both periods hold the first payment's time: it is tied to the one
// starting nearest it, the first, and the renewal to the second. Tied the
// other way round, a refund of the first payment took back (and labelled)
// the second period.
func TestTheReconcilerTiesEachLostPaymentToItsOwnPeriod(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 }) // the upgrade's payment.succeeded
	mem := a.upgrade(user)
	a.settle()
	pay1 := a.premiumPayment(mem, "subscription_create")
	// Periods are keyed by their start to the second, and the sandbox
	// renews at once: three seconds on, the renewal's period starts at
	// least two seconds after the first payment, and the first period at
	// most one second before it (a real renewal comes a month on).
	time.Sleep(3 * time.Second)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 }) // the renewal's, its only event
	pay2, err := a.sim.RenewMembership(mem)
	if err != nil {
		t.Fatal(err)
	}
	a.settle()
	if _, err := a.billing.Deliveries.Reconcile(a.ctx); err != nil {
		t.Fatal(err)
	}
	grants := a.premiumGrants(mem)
	if len(grants) != 2 || !grants[0].PeriodStart.Before(grants[1].PeriodStart) {
		t.Fatalf("grants = %+v, want two periods", grants)
	}
	if grants[0].PaymentID != pay1 || grants[1].PaymentID != pay2 {
		t.Fatalf("the first period is tied to %q, the second to %q; want %s then %s", grants[0].PaymentID, grants[1].PaymentID, pay1, pay2)
	}
	if err := a.sim.Refund(pay1, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	after := a.premiumGrants(mem)
	if after[0].RefundedCredits != 50 || after[0].RefundedAmount != 999 || after[1].RefundedCredits != 0 || after[1].RefundedAmount != 0 ||
		a.balance(user) != 50 {
		t.Fatalf("after refunding the upgrade: grants %+v, balance %d; want the first period's 50 taken back", after, a.balance(user))
	}
}
