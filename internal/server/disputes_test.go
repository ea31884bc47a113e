package server_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestLostDisputeTakesTheCreditsBack: an open dispute on a fulfilled
// purchase changes nothing; losing it takes the credits back as a full
// refund would.
func TestLostDisputeTakesTheCreditsBack(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	pur, receipt := a.buyIn(a.experience(), user, "starter")
	id, err := a.sim.Dispute(receipt, "fraudulent")
	if err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance with an open dispute = %d, want 100", b)
	}
	if err := a.sim.UpdateDispute(id, "lost"); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 0 {
		t.Fatalf("balance after the dispute was lost = %d, want 0", b)
	}
	p, _ := a.store.Purchase(a.ctx, pur)
	if p.Status != ledger.PurchasePaid || p.RefundedAmount != 499 || p.RefundedCredits != 100 {
		t.Fatalf("purchase after a lost dispute = %+v", p)
	}
	ds, _ := a.store.DisputesForPayment(a.ctx, receipt)
	if len(ds) != 1 || ds[0].Status != "lost" || ds[0].PurchaseID != pur || ds[0].Amount != 499 {
		t.Fatalf("disputes = %+v", ds)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'refund' AND amount = -100`); n != 1 {
		t.Fatalf("refund entries = %d, want one of -100", n)
	}
}

// decideDispute has the buyer's bank open a dispute on a payment and then
// decide it (won or lost), each step's webhooks delivered; it returns the
// dispute's id.
func (a *app) decideDispute(paymentID, outcome string) string {
	a.t.Helper()
	id, err := a.sim.Dispute(paymentID, "fraudulent")
	if err != nil {
		a.t.Fatal(err)
	}
	a.settle()
	if err := a.sim.UpdateDispute(id, outcome); err != nil {
		a.t.Fatal(err)
	}
	a.settle()
	return id
}

// TestALateDisputeCreatedDoesNotReopenALostDispute: the dispute.created
// delivery is lost and comes back after the dispute was lost, then is sent
// again as a new event with a fresh time. The dispute stays lost (the
// activity's "dispute lost" label reads it), each late delivery is
// answered 2xx and recorded as ignored, saying why, and the credits stay
// taken back once.
func TestALateDisputeCreatedDoesNotReopenALostDispute(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	pur, receipt := a.buyIn(a.experience(), user, "starter")
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	id := a.decideDispute(receipt, "lost")
	var created, updated whopsim.Event
	for _, ev := range a.sim.Events() {
		switch ev.Type {
		case "dispute.created":
			created = ev
		case "dispute.updated":
			updated = ev
		}
	}
	if created.ID == "" || updated.ID == "" || a.count(`SELECT count(*) FROM webhook_deliveries WHERE id = $1`, created.ID) != 0 {
		t.Fatalf("dispute.created %q, dispute.updated %q: want both, the created one not yet delivered", created.ID, updated.ID)
	}
	if err := a.sim.Deliver([]string{created.ID}, false); err != nil {
		t.Fatal(err)
	}
	a.settle()

	// The lost report's time as its body carries it, to the millisecond.
	updatedAt := updated.CreatedAt.UTC().Truncate(time.Millisecond)
	ds, _ := a.store.DisputesForPayment(a.ctx, receipt)
	if len(ds) != 1 || ds[0].ID != id || ds[0].Status != "lost" || ds[0].PurchaseID != pur || ds[0].Amount != 499 ||
		ds[0].Reason != "fraudulent" || !ds[0].ReportedAt.Equal(updatedAt) {
		t.Fatalf("disputes = %+v, want %s lost as reported at %v", ds, id, updatedAt)
	}
	outcome, linked := a.delivery(created.ID)
	wantOutcome := "ignored: dispute " + id + " is already lost, further along than needs_response"
	if outcome != wantOutcome || linked != pur {
		t.Fatalf("late dispute.created recorded %q for %q, want %q for %s", outcome, linked, wantOutcome, pur)
	}

	// The dispute.created sent again as a new event, with a fresh time
	// (whopsim resend --new-id): a dispute never goes back along its life.
	var delivery int64
	for _, at := range a.sim.Deliveries() {
		if at.EventID == created.ID {
			delivery = at.Delivery
		}
	}
	resent, err := a.sim.Resend(delivery, true)
	if err != nil {
		t.Fatal(err)
	}
	a.settle()
	outcome, linked = a.delivery(resent.EventID)
	if want := "ignored: dispute " + id + " is already lost, further along than needs_response"; resent.EventID == created.ID ||
		outcome != want || linked != pur {
		t.Fatalf("dispute.created re-sent as %s: recorded %q for %q, want %q for %s", resent.EventID, outcome, linked, want, pur)
	}
	ds, _ = a.store.DisputesForPayment(a.ctx, receipt)
	if len(ds) != 1 || ds[0].ID != id || ds[0].Status != "lost" || ds[0].PurchaseID != pur || ds[0].Amount != 499 ||
		ds[0].Reason != "fraudulent" || !ds[0].ReportedAt.Equal(updatedAt) {
		t.Fatalf("after the re-sent created: disputes = %+v, want %s lost as reported at %v", ds, id, updatedAt)
	}
	// Both late deliveries were answered 2xx at their first attempt.
	for _, ev := range []string{created.ID, resent.EventID} {
		var answered []int
		for _, at := range a.sim.Deliveries() {
			if at.EventID == ev && at.Status != 0 {
				answered = append(answered, at.Status)
			}
		}
		if len(answered) != 1 || answered[0] != 200 {
			t.Fatalf("%s answered %v, want one 200", ev, answered)
		}
	}
	if b := a.balance(user); b != 0 {
		t.Fatalf("balance = %d, want 0: the lost dispute took the credits back", b)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'refund' AND amount = -100`); n != 1 {
		t.Fatalf("refund entries = %d, want one of -100", n)
	}
}

// TestDisputedPaymentIsCreditedOnlyOnceWon: a payment whose success webhook
// was lost is disputed before anything credited it; it is refused while the
// dispute is open and credited when the dispute is won.
func TestDisputedPaymentIsCreditedOnlyOnceWon(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	_, receipt := a.buyIn(a.experience(), user, "starter")
	id, err := a.sim.Dispute(receipt, "fraudulent")
	if err != nil {
		t.Fatal(err)
	}
	a.settle()
	run, err := a.billing.Deliveries.Reconcile(a.ctx)
	if err != nil || run.Credited != 0 {
		t.Fatalf("reconcile during the dispute = %+v, %v", run, err)
	}
	rs, _ := a.store.Rejections(a.ctx, receipt)
	if a.balance(user) != 0 || len(rs) != 1 || rs[0].Reason != "payment is disputed (dispute_needs_response)" {
		t.Fatalf("during the dispute: balance %d, rejections %+v", a.balance(user), rs)
	}
	if err := a.sim.UpdateDispute(id, "won"); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after the dispute was won = %d, want 100", b)
	}
}

// TestPaymentWithoutCompanyOrCheckoutIsReadFromWhop: the company and
// checkout checks fail closed, so a payment that arrives without them is
// read from Whop's API before anything is credited.
func TestPaymentWithoutCompanyOrCheckoutIsReadFromWhop(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	pur, receipt := a.buyIn(a.experience(), user, "starter")
	p, err := a.whop.GetPayment(a.ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	p.CompanyID, p.CheckoutConfigurationID = "", ""
	out, err := a.billing.Deliveries.FulfilPayment(a.ctx, p, billing.FromWebhook, nil)
	if err != nil || out.Credited != 100 || out.Purchase.ID != pur {
		t.Fatalf("fulfil a bare payment = %+v, %v; want it read from Whop and credited", out, err)
	}

	// A payment Whop does not know, naming another pending purchase, is
	// never trusted on its own word.
	_, _, other := a.charge(user, "pro")
	fake := *p
	fake.ID, fake.Metadata = "pay_doesnotexist01", map[string]string{billing.MetaPurchaseID: other}
	if _, err := a.billing.Deliveries.FulfilPayment(a.ctx, &fake, billing.FromWebhook, nil); err == nil || !strings.Contains(err.Error(), "re-read payment") {
		t.Fatalf("fulfil an unknown bare payment: err = %v, want the re-read to fail", err)
	}
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance = %d, want 100", b)
	}
}

// TestAReceiptSaysWhatWasRefundedAndWhatChargedBack: $10 of a $24.99
// purchase is refunded, then the buyer's bank takes the rest in a lost
// dispute. The member's receipt and the creator's dashboard say both parts
// and "Charged back", as the payment look-up does, not "$24.99 refunded".
func TestAReceiptSaysWhatWasRefundedAndWhatChargedBack(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	pur, receipt := a.buyIn(a.experience(), user, "pro")
	if err := a.sim.Refund(receipt, 1000); err != nil {
		t.Fatal(err)
	}
	a.settle()
	a.decideDispute(receipt, "lost")
	ds, _ := a.store.DisputesForPayment(a.ctx, receipt)
	if p, _ := a.store.Purchase(a.ctx, pur); p.RefundedAmount != 2499 || p.RefundedCredits != 600 || len(ds) != 1 || ds[0].Amount != 1499 {
		t.Fatalf("purchase %+v, disputes %+v; want all of it reversed, $14.99 of it by the dispute", p, ds)
	}
	const both = "$10.00 refunded, $14.99 charged back"
	_, page := a.get("/experiences/"+a.experience(), user)
	assertContains(t, "the member's receipts", page, both, "Charged back")
	assertLacks(t, "the member's receipts", page, "$24.99 refunded")
	_, dash := a.get("/dashboard/"+a.env.Seed.Creator.ID, a.env.Seed.Admin.ID)
	row := regexp.MustCompile(`<tr data-testid="receipt-` + pur + `">.*?</tr>`).FindString(dash)
	assertContains(t, "the creator's receipt row", row, both, `data-testid="status-`+pur+`">Charged back<`)
	assertLacks(t, "the creator's receipt row", row, "$24.99 refunded")
}
