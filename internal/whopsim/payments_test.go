package whopsim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

func TestPayRecordsAPaymentWithTheCheckoutMetadata(t *testing.T) {
	b := setup(t)
	pay, co := b.buy("4.99", map[string]any{"purchase_id": "pur_7", "package": "starter"})
	if !strings.HasPrefix(pay, "pay_") || len(pay) != len("pay_")+14 {
		t.Fatalf("receipt id = %q, want pay_ and 14 base62 characters", pay)
	}
	alice := b.Seed.Members[0]
	out := b.mustAPI("GET", "/api/v1/payments/"+pay, nil)
	fields(t, out, map[string]string{
		"id": pay, "status": "paid", "substatus": "succeeded", "currency": "usd",
		"total": "4.99", "subtotal": "4.99", "usd_total": "4.99", "settlement_amount": "4.99",
		// 3% + 30 cents: 15 + 30 = 45 cents.
		"amount_after_fees": "4.54", "refunded_amount": "0", "refundable": "true", "retryable": "false",
		"billing_reason": "one_time", "card_last4": "4242", "card_brand": "visa", "failure_message": "<null>",
		"metadata.purchase_id": "pur_7", "metadata.package": "starter", "checkout_configuration_id": co,
		"user.id": alice.ID, "user.username": "alice", "user.name": "Alice Member", "user.email": "alice@example.com",
		"company.id": b.Seed.Owner.ID, "company.title": "Creditkit Labs", "company.route": "creditkit-labs",
		"membership": "<null>", "product": "<null>", "refunded_at": "<null>",
		"created_at": "2026-03-02T12:00:00.000Z", "paid_at": "2026-03-02T12:00:00.000Z", "updated_at": "2026-03-02T12:00:00.000Z",
	})
	if got := at(t, out, "refunds").([]any); len(got) != 0 {
		t.Errorf("refunds = %v, want none", got)
	}
	ledger := b.mustAPI("GET", "/api/v1/ledger_accounts/"+b.Seed.Owner.ID, nil)
	if got := str(t, ledger, "balances.0.balance"); got != "1004.54" {
		t.Errorf("owner balance = %s, want 1000 + 4.54 net", got)
	}
}

func TestPayPremiumPlanMakesAMembership(t *testing.T) {
	b := setup(t)
	bob := b.Seed.Members[1]
	before := b.mustAPI("GET", "/api/v1/users/"+bob.ID+"/access/"+b.Seed.PremiumProductID, nil)
	fields(t, before, map[string]string{"has_access": "false", "access_level": "no_access"})

	co := b.mustAPI("POST", "/api/v1/checkout_configurations", map[string]any{
		"plan_id": b.Seed.PremiumPlanID, "metadata": map[string]any{"experience_id": b.Seed.Creator.ExperienceID}})
	res, err := b.Sim.Pay(whopsim.Purchase{CheckoutID: str(t, co, "id"), PlanID: b.Seed.PremiumPlanID, UserID: bob.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res.SessionID != str(t, co, "id") {
		t.Errorf("sessionId = %q, want the checkout configuration %q", res.SessionID, str(t, co, "id"))
	}
	p := b.mustAPI("GET", "/api/v1/payments/"+res.ReceiptID, nil)
	fields(t, p, map[string]string{"total": "9.99", "billing_reason": "subscription_create",
		"membership.status": "active", "product.id": b.Seed.PremiumProductID, "plan.id": b.Seed.PremiumPlanID})
	m := b.mustAPI("GET", "/api/v1/memberships/"+str(t, p, "membership.id"), nil)
	fields(t, m, map[string]string{"status": "active", "user.id": bob.ID, "plan.id": b.Seed.PremiumPlanID,
		"product.id": b.Seed.PremiumProductID, "metadata.experience_id": b.Seed.Creator.ExperienceID,
		"checkout_configuration_id": str(t, co, "id"), "renewal_period_start": "2026-03-02T12:00:00.000Z",
		"renewal_period_end": "2026-04-01T12:00:00.000Z", "cancel_at_period_end": "false"})
	after := b.mustAPI("GET", "/api/v1/users/"+bob.ID+"/access/"+b.Seed.PremiumProductID, nil)
	fields(t, after, map[string]string{"has_access": "true", "access_level": "customer"})

	b.idle()
	if got := b.eventTypes(); got != "payment.succeeded,membership.activated" {
		t.Errorf("events = %s, want payment.succeeded then membership.activated", got)
	}
}

func TestDeclineRecordsAFailedPayment(t *testing.T) {
	b := setup(t)
	co, plan := b.inlineCheckout("4.99", map[string]any{"purchase_id": "pur_9"})
	res, err := b.Sim.Decline(whopsim.Purchase{CheckoutID: co, PlanID: plan})
	if err != nil {
		t.Fatal(err)
	}
	out := b.mustAPI("GET", "/api/v1/payments/"+res.ReceiptID, nil)
	fields(t, out, map[string]string{"status": "open", "substatus": "failed", "paid_at": "<null>",
		"refundable": "false", "failure_message": "Your card was declined.", "payments_failed": "1",
		"metadata.purchase_id": "pur_9", "user.id": b.Sim.SelectedUser()})
	b.idle()
	if got := b.eventTypes(); got != "payment.failed" {
		t.Errorf("events = %s, want one payment.failed", got)
	}
}

func TestPurchaseRefusals(t *testing.T) {
	b := setup(t)
	co, plan := b.inlineCheckout("1", nil)
	setupMode := b.mustAPI("POST", "/api/v1/checkout_configurations", map[string]any{"mode": "setup", "company_id": b.Seed.Owner.ID})
	for _, tt := range []struct {
		name string
		p    whopsim.Purchase
	}{
		{"planId of another plan", whopsim.Purchase{CheckoutID: co, PlanID: b.Seed.PremiumPlanID}},
		{"unknown configuration", whopsim.Purchase{CheckoutID: "ch_nope", PlanID: plan}},
		{"unknown plan", whopsim.Purchase{PlanID: "plan_nope"}},
		{"setup configuration", whopsim.Purchase{CheckoutID: str(t, setupMode, "id")}},
		{"unknown user", whopsim.Purchase{CheckoutID: co, UserID: "user_nope"}},
	} {
		if _, err := b.Sim.Pay(tt.p); err == nil {
			t.Errorf("%s: Pay succeeded, want an error", tt.name)
		}
	}
	if n := len(b.Sim.Events()); n != 0 {
		t.Errorf("refused purchases made %d events", n)
	}
}

func TestPaymentIsUnreadableRightAfterCheckout(t *testing.T) {
	b := setup(t, func(o *whopsim.Options) { o.PaymentDelay = time.Second; o.PaymentPendingFor = 2 * time.Second })
	pay, co := b.buy("4.99", nil)
	paths := []string{"/api/v1/payments/" + pay, "/api/v2/payments/" + pay, "/api/v5/app/payments/" + pay}
	list := "/api/v1/payments?company_id=" + b.Seed.Owner.ID + "&checkout_configuration_ids[]=" + co
	expect := func(status int, state string) {
		t.Helper()
		for _, p := range paths {
			if got, out := b.api("GET", p, nil); got != status {
				t.Errorf("%s at +%v = %d %v, want %d", p, b.clock.Now().Sub(start), got, out, status)
			}
		}
		out := b.mustAPI("GET", list, nil)
		if n := len(at(t, out, "data").([]any)); (n == 1) != (status == 200) {
			t.Errorf("list at +%v has %d payments", b.clock.Now().Sub(start), n)
		}
		if state != "" {
			fields(t, b.mustAPI("GET", paths[0], nil), map[string]string{"status": state})
		}
	}
	expect(404, "")
	b.clock.Advance(999 * time.Millisecond)
	expect(404, "")
	b.clock.Advance(time.Millisecond)
	expect(200, "pending")
	fields(t, b.mustAPI("GET", paths[0], nil), map[string]string{"substatus": "pending", "paid_at": "<null>"})
	b.clock.Advance(2 * time.Second)
	expect(200, "paid")
	if status, out := b.api("GET", paths[0], nil); status != http.StatusOK || str(t, out, "substatus") != "succeeded" {
		t.Errorf("after the delays = %d %v, want paid/succeeded", status, out)
	}
}

func TestPaymentGenerations(t *testing.T) {
	b := setup(t)
	pay, co := b.buy("24.99", map[string]any{"purchase_id": "pur_3"})
	alice := b.Seed.Members[0]
	v2 := b.mustAPI("GET", "/api/v2/payments/"+pay, nil)
	fields(t, v2, map[string]string{"id": pay, "status": "paid", "user": alice.ID, "company_id": b.Seed.Owner.ID,
		"final_amount": "24.99", "total": "24.99", "subtotal": "24.99", "refunded_amount": "0", "currency": "usd",
		"last4": "4242", "card_brand": "visa", "created_at": "1772452800", "paid_at": "1772452800",
		"refunded_at": "<null>", "membership": "<null>", "billing_reason": "one_time", "checkout_request_id": co})
	if plan, ok := at(t, v2, "plan").(string); !ok || !strings.HasPrefix(plan, "plan_") {
		t.Errorf("v2 plan without expand = %v, want its id", at(t, v2, "plan"))
	}
	for _, q := range []string{"?expand=user,plan", "?expand=user&expand=plan", "?expand[]=user&expand[]=plan"} {
		out := b.mustAPI("GET", "/api/v2/payments/"+pay+q, nil)
		fields(t, out, map[string]string{"user.id": alice.ID, "user.username": "alice", "user.email": "alice@example.com",
			"plan.initial_price": "24.99", "plan.plan_type": "one_time"})
	}
	v5 := b.mustAPI("GET", "/api/v5/app/payments/"+pay, nil)
	fields(t, v5, map[string]string{"id": pay, "status": "paid", "user_id": alice.ID, "company_id": b.Seed.Owner.ID,
		"membership_id": "<null>", "final_amount": "24.99", "subtotal": "24.99", "amount_after_fees": "23.94",
		"refunded_amount": "0", "currency": "usd", "card_last_4": "4242", "created_at": "1772452800",
		"paid_at": "1772452800", "checkout_id": co, "metadata.purchase_id": "pur_3", "user_email": "alice@example.com"})
	if str(t, v5, "plan_id") != str(t, v2, "plan") {
		t.Errorf("v5 plan_id %s != v2 plan %s", str(t, v5, "plan_id"), str(t, v2, "plan"))
	}

	status, out := b.api("GET", "/api/v2/payments/pay_missing", nil)
	if status != 404 || str(t, out, "error.status") != "404" || str(t, out, "error.message") == "" {
		t.Errorf("v2 404 = %d %v, want {error:{status,message}}", status, out)
	}
	status, out = b.api("GET", "/api/v5/app/payments/pay_missing", nil)
	if status != 404 || str(t, out, "message") == "" {
		t.Errorf("v5 404 = %d %v, want {message}", status, out)
	}
}

// TestAPendingPaymentSettlesLater: a payment started pending (a bank
// transfer) reads pending with payment.pending sent; settled as failed it
// reads failed, at the time it failed, with payment.failed; settled as
// paid, it reads paid and credits the seller, with payment.succeeded. A
// payment that is not pending cannot be settled.
func TestAPendingPaymentSettlesLater(t *testing.T) {
	b := setup(t)
	alice := b.Seed.Members[0]
	start := func() string {
		t.Helper()
		co, plan := b.inlineCheckout("4.99", map[string]any{"purchase_id": "pur_7"})
		code, out, _ := b.do("POST", "/_sim/checkout", map[string]any{"id": co, "plan_id": plan, "user_id": alice.ID, "outcome": "pending"})
		if code != http.StatusOK {
			t.Fatalf("pending checkout = %d %v", code, out)
		}
		return str(t, out, "receiptId")
	}
	failing := start()
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+failing, nil), map[string]string{
		"status": "pending", "substatus": "pending", "failure_message": "<null>", "paid_at": "<null>",
		"metadata.purchase_id": "pur_7", "updated_at": "2026-03-02T12:00:00.000Z"})
	b.clock.Advance(90 * time.Second)
	if code, out, _ := b.do("POST", "/_sim/payments/"+failing+"/settle", map[string]any{"outcome": "fail"}); code != http.StatusOK {
		t.Fatalf("settle as failed = %d %v", code, out)
	}
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+failing, nil), map[string]string{
		"status": "open", "substatus": "failed", "failure_message": "The bank declined the transfer.", "paid_at": "<null>",
		"created_at": "2026-03-02T12:00:00.000Z", "updated_at": "2026-03-02T12:01:30.000Z"})
	if code, out, _ := b.do("POST", "/_sim/payments/"+failing+"/settle", map[string]any{"outcome": "pay"}); code != http.StatusBadRequest ||
		!strings.Contains(str(t, out, "error.message"), "is not pending") {
		t.Fatalf("settling a failed payment = %d %v, want 400 not pending", code, out)
	}

	paying := start()
	if code, out, _ := b.do("POST", "/_sim/payments/"+paying+"/settle", map[string]any{"outcome": "maybe"}); code != http.StatusBadRequest {
		t.Fatalf("settle with outcome maybe = %d %v, want 400", code, out)
	}
	if err := b.Sim.SettlePending(paying, true); err != nil {
		t.Fatal(err)
	}
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+paying, nil), map[string]string{
		"status": "paid", "substatus": "succeeded", "failure_message": "<null>", "amount_after_fees": "4.54",
		"paid_at": "2026-03-02T12:01:30.000Z", "updated_at": "2026-03-02T12:01:30.000Z"})
	if got := str(t, b.mustAPI("GET", "/api/v1/ledger_accounts/"+b.Seed.Owner.ID, nil), "balances.0.balance"); got != "1004.54" {
		t.Errorf("owner balance = %s, want 1000 + 4.54 from the paid one only", got)
	}
	if got := b.eventTypes(); got != "payment.pending,payment.failed,payment.pending,payment.succeeded" {
		t.Errorf("events = %s", got)
	}
}
