package server_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whopsim"
)

func TestChargeRecordsPendingPurchaseWithMetadata(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	checkoutID, planID, purchaseID := a.charge(user, "starter")
	if !strings.HasPrefix(checkoutID, "ch_") || !strings.HasPrefix(planID, "plan_") || !strings.HasPrefix(purchaseID, "pur_") {
		t.Fatalf("charge answer: %s %s %s", checkoutID, planID, purchaseID)
	}
	p, err := a.store.Purchase(a.ctx, purchaseID)
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.Purchase{
		ID: purchaseID, UserID: user, ExperienceID: a.experience(), CompanyID: a.env.Seed.Creator.ID,
		PackageID: "starter", Credits: 100, Price: 499, Currency: "usd", CheckoutID: checkoutID, PlanID: planID,
		PurchaseURL: p.PurchaseURL, Status: ledger.PurchasePending, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p != want || p.PurchaseURL == "" {
		t.Fatalf("purchase = %+v\nwant %+v", p, want)
	}
	// The configuration Whop holds carries the price we set and metadata naming the purchase.
	receipt := a.pay(checkoutID, planID, user)
	pay, err := a.whop.GetPayment(a.ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Total != 499 || pay.Currency != "usd" || pay.Metadata["creditkit_purchase_id"] != purchaseID ||
		pay.Metadata["experience_id"] != a.experience() || pay.Metadata["user_id"] != user || pay.Metadata["package_id"] != "starter" ||
		pay.CompanyID != a.env.Seed.Owner.ID {
		t.Fatalf("payment at Whop = %+v", pay)
	}
}

func TestChargeRefusesBadRequestsAndWritesNothing(t *testing.T) {
	a := setup(t)
	exp := a.experience()
	tests := []struct {
		name   string
		user   string
		body   any
		status int
		code   string
	}{
		{"no token", "", map[string]string{"experience_id": exp, "package": "starter"}, 401, "unauthenticated"},
		{"unknown package", a.member(0), map[string]string{"experience_id": exp, "package": "gold"}, 400, "unknown_package"},
		{"missing experience", a.member(0), map[string]string{"package": "starter"}, 400, "missing_field"},
		{"no access", a.env.Seed.NoAccess.ID, map[string]string{"experience_id": exp, "package": "starter"}, 403, "forbidden"},
		{"unknown experience", a.member(0), map[string]string{"experience_id": "exp_doesnotexist00", "package": "starter"}, 403, "forbidden"},
		{"price in body", a.member(0), map[string]any{"experience_id": exp, "package": "starter", "price": 1}, 400, "invalid_json"},
		{"not json", a.member(0), "starter please", 400, "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, raw := a.call("POST", "/api/charge", tt.user, tt.body)
			if code != tt.status || out["error"].(map[string]any)["code"] != tt.code {
				t.Fatalf("got %d %s, want %d %s", code, raw, tt.status, tt.code)
			}
			if msg := out["error"].(map[string]any)["message"].(string); len(msg) < 10 {
				t.Errorf("message %q is not a clear sentence", msg)
			}
		})
	}
	if n := a.count(`SELECT count(*) FROM purchases`); n != 0 {
		t.Fatalf("%d purchases written by refused charges", n)
	}
}

func TestChargeIdempotencyKey(t *testing.T) {
	a := setup(t)
	body := map[string]string{"experience_id": a.experience(), "package": "starter", "idempotency_key": "tap-1"}
	_, first, _ := a.call("POST", "/api/charge", a.member(0), body)
	_, again, _ := a.call("POST", "/api/charge", a.member(0), body)
	if first["purchase_id"] != again["purchase_id"] || first["id"] != again["id"] || first["planId"] != again["planId"] {
		t.Fatalf("same key gave %v then %v", first, again)
	}
	body["package"] = "pro"
	code, out, _ := a.call("POST", "/api/charge", a.member(0), body)
	if code != 409 || out["error"].(map[string]any)["code"] != "idempotency_conflict" {
		t.Fatalf("same key, other package: %d %v", code, out)
	}
	if n := a.count(`SELECT count(*) FROM purchases`); n != 1 {
		t.Fatalf("purchases = %d, want 1", n)
	}
}

func TestBuyThenWebhookCreditsExactlyOnce(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	ch, plan, pur := a.charge(user, "starter")
	receipt := a.pay(ch, plan, user)
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after webhook = %d, want 100", b)
	}
	p, _ := a.store.Purchase(a.ctx, pur)
	if p.Status != ledger.PurchasePaid || p.PaymentID != receipt || p.PaidAmount != 499 || p.FulfilledAt.IsZero() {
		t.Fatalf("purchase after webhook = %+v", p)
	}
	// The same delivery three more times changes nothing.
	ev := lastEvent(t, a, "payment.succeeded")
	if err := a.sim.Redeliver(ev.ID, 3); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after 3 redeliveries = %d, want 100", b)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries`); n != 1 {
		t.Fatalf("ledger entries = %d, want 1", n)
	}
	if n := a.count(`SELECT count(*) FROM webhook_deliveries WHERE event_type = 'payment.succeeded'`); n != 1 {
		t.Fatalf("payment.succeeded deliveries recorded = %d, want 1 (repeats are not stored twice)", n)
	}
	for _, at := range a.sim.Deliveries() {
		if at.Status != 200 {
			t.Errorf("delivery %s attempt %d answered %d", at.EventID, at.Attempt, at.Status)
		}
	}
}

func TestConfirmBeforeAndAfterWebhook(t *testing.T) {
	a := setup(t)
	user := a.member(0)

	// Confirm first: the webhook is held back until after. (The sandbox
	// releases held events once N are held, so N is more than will come.)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 100 })
	ch, plan, pur := a.charge(user, "starter")
	receipt := a.pay(ch, plan, user)
	code, out, raw := a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": receipt})
	if code != 200 || out["balance"] != float64(100) || out["status"] != "paid" {
		t.Fatalf("confirm = %d %s", code, raw)
	}
	if n := len(a.sim.Deliveries()); n != 0 {
		t.Fatalf("%d delivery attempts before the release; the webhook must come after the confirm", n)
	}
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 0 })
	if n := a.sim.ReleaseHeld(false); n != 1 {
		t.Fatalf("released %d held events, want 1", n)
	}
	a.settle()
	if at := a.sim.Deliveries(); len(at) != 1 || at[0].Status != 200 {
		t.Fatalf("late webhook attempts = %+v", at)
	}
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after confirm then webhook = %d, want 100", b)
	}

	// Webhook first, then confirm.
	ch, plan, pur = a.charge(user, "pro")
	receipt = a.pay(ch, plan, user)
	a.settle()
	code, out, raw = a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": receipt})
	if code != 200 || out["balance"] != float64(700) {
		t.Fatalf("confirm after webhook = %d %s", code, raw)
	}
	if b := a.balance(user); b != 700 {
		t.Fatalf("balance = %d, want 700", b)
	}
}

func TestConfirmAndWebhookRacingCreditOnce(t *testing.T) {
	a := setup(t)
	user := a.member(1)
	const rounds = 15
	var wg sync.WaitGroup
	for i := 0; i < rounds; i++ {
		ch, plan, pur := a.charge(user, "starter")
		receipt := a.pay(ch, plan, user) // the webhook is on its way now…
		for j := 0; j < 3; j++ {         // …while the page confirms, three times over
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _, raw := a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": receipt})
				if code != 200 {
					t.Errorf("confirm: %d %s", code, raw)
				}
			}()
		}
	}
	wg.Wait()
	a.settle()
	if b := a.balance(user); b != rounds*100 {
		t.Fatalf("balance = %d, want %d", b, rounds*100)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'purchase'`); n != rounds {
		t.Fatalf("purchase entries = %d, want %d", n, rounds)
	}
}

func TestConfirmRefusesOthersAndMismatches(t *testing.T) {
	a := setup(t)
	owner, other := a.member(0), a.member(1)
	ch, plan, pur := a.charge(owner, "starter")
	receipt := a.pay(ch, plan, owner)
	a.settle()
	code, _, _ := a.call("POST", "/api/purchases/"+pur+"/confirm", other, map[string]string{"receipt_id": receipt})
	if code != 404 {
		t.Fatalf("another member confirming = %d, want 404", code)
	}
	_, _, pur2 := a.charge(owner, "starter")
	code, out, _ := a.call("POST", "/api/purchases/"+pur2+"/confirm", owner, map[string]string{"receipt_id": receipt})
	if code != 409 || out["error"].(map[string]any)["code"] != "receipt_mismatch" {
		t.Fatalf("confirming with another purchase's receipt = %d %v", code, out)
	}
	if b := a.balance(owner); b != 100 {
		t.Fatalf("balance = %d, want 100", b)
	}
}

// A receipt whose payment Whop still shows pending, or has failed, is not
// a payment that does not match its purchase: the member is told it is
// processing (202) or declined (422 payment_failed), the purchase is marked
// as the payment webhooks would mark it, and no rejection is recorded.
func TestConfirmOfAPaymentNotPaidYet(t *testing.T) {
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentPendingFor = time.Hour }))
	user := a.member(0)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 100 })
	ch, plan, pur := a.charge(user, "starter")
	receipt := a.pay(ch, plan, user)
	code, out, raw := a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": receipt})
	if code != 202 || out["status"] != "processing" {
		t.Fatalf("confirm while Whop shows the payment pending = %d %s, want 202 processing", code, raw)
	}
	p, err := a.store.Purchase(a.ctx, pur)
	if err != nil || p.Status != ledger.PurchaseProcessing || p.FailureReason != "" || p.PaymentID != "" {
		t.Fatalf("purchase after a pending confirm = %+v, %v; want processing, no reason, no payment", p, err)
	}
	if n := a.count(`SELECT count(*) FROM payment_rejections`); n != 0 {
		t.Fatalf("%d rejections recorded for a pending payment", n)
	}
	if b := a.balance(user); b != 0 {
		t.Fatalf("balance while pending = %d, want 0", b)
	}

	// The held payment.succeeded credits it; confirming again reads it.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 0 })
	if n := a.sim.ReleaseHeld(false); n != 1 {
		t.Fatalf("released %d held events, want 1", n)
	}
	a.settle()
	code, out, raw = a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": receipt})
	if code != 200 || out["status"] != "paid" || out["balance"] != float64(100) {
		t.Fatalf("confirm after the webhook = %d %s", code, raw)
	}
	if p, err = a.store.Purchase(a.ctx, pur); err != nil || p.Status != ledger.PurchasePaid || p.PaymentID != receipt {
		t.Fatalf("purchase after the webhook = %+v, %v", p, err)
	}

	// A declined card's receipt.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 100 })
	ch, plan, pur = a.charge(user, "starter")
	res, err := a.sim.Decline(whopsim.Purchase{CheckoutID: ch, PlanID: plan, UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	code, out, raw = a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": res.ReceiptID})
	e, _ := out["error"].(map[string]any)
	if code != 422 || e["code"] != "payment_failed" ||
		e["message"] != "Whop failed the payment: Your card was declined. You were not charged and no credits were added; you can try again." {
		t.Fatalf("confirm of a declined payment = %d %s", code, raw)
	}
	if p, err = a.store.Purchase(a.ctx, pur); err != nil || p.Status != ledger.PurchaseFailed || p.FailureReason != "Your card was declined." {
		t.Fatalf("purchase after a declined confirm = %+v, %v; want failed, the card's reason", p, err)
	}
	if n := a.count(`SELECT count(*) FROM payment_rejections`); n != 0 {
		t.Fatalf("%d rejections recorded for payments not paid", n)
	}
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after the decline = %d, want 100", b)
	}
}

func lastEvent(t *testing.T, a *app, typ string) whopsim.Event {
	t.Helper()
	evs := a.sim.Events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return evs[i]
		}
	}
	t.Fatalf("no %s event", typ)
	return whopsim.Event{}
}
