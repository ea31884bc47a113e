package whopsim_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestRenewMembership renews a premium membership a day after it was
// bought: the period moves to start then, a payment of the renewal price
// is recorded against the membership and payment.succeeded is its one
// event; a membership that cannot renew is refused.
func TestRenewMembership(t *testing.T) {
	b := setup(t)
	out := b.mustAPI("POST", "/api/v1/checkout_configurations", map[string]any{"plan_id": b.Seed.PremiumPlanID,
		"metadata": map[string]any{"experience_id": "exp_x", "user_id": b.Seed.Members[0].ID}})
	first, err := b.Sim.Pay(whopsim.Purchase{CheckoutID: str(t, out, "id"), PlanID: b.Seed.PremiumPlanID, UserID: b.Seed.Members[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	mem := str(t, b.mustAPI("GET", "/api/v1/payments/"+first.ReceiptID, nil), "membership.id")
	b.clock.Advance(24 * time.Hour)

	pay, err := b.Sim.RenewMembership(mem)
	if err != nil {
		t.Fatal(err)
	}
	if pay == first.ReceiptID || pay == "" {
		t.Fatalf("renewal payment = %q", pay)
	}
	fields(t, b.mustAPI("GET", "/api/v1/memberships/"+mem, nil), map[string]string{
		"status": "active", "renewal_period_start": "2026-03-03T12:00:00.000Z",
		"renewal_period_end": "2026-04-02T12:00:00.000Z", "updated_at": "2026-03-03T12:00:00.000Z",
		"metadata.experience_id": "exp_x"})
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+pay, nil), map[string]string{
		"status": "paid", "substatus": "succeeded", "total": "9.99", "currency": "usd", "refunded_amount": "0",
		"billing_reason": "subscription_cycle", "membership.id": mem, "plan.id": b.Seed.PremiumPlanID,
		"user.id": b.Seed.Members[0].ID, "paid_at": "2026-03-03T12:00:00.000Z", "created_at": "2026-03-03T12:00:00.000Z",
		"metadata.experience_id": "exp_x", "checkout_configuration_id": "<null>", "refundable": "true"})
	// 1000.00 to start, each 9.99 less the fee of 0.60.
	if got := str(t, b.mustAPI("GET", "/api/v1/ledger_accounts/"+b.Seed.Owner.ID, nil), "balances.0.balance"); got != "1018.78" {
		t.Errorf("owner balance = %s, want 1018.78", got)
	}
	b.idle()
	if got := b.eventTypes(); got != "payment.succeeded,membership.activated,payment.succeeded" {
		t.Fatalf("events = %s", got)
	}
	evs := b.Sim.Events()
	var renewal map[string]any
	if err := json.Unmarshal(evs[2].Body, &renewal); err != nil {
		t.Fatal(err)
	}
	if at(t, renewal, "data.id") != pay || at(t, renewal, "data.membership.id") != mem {
		t.Errorf("renewal's payment.succeeded = %v", at(t, renewal, "data"))
	}

	if err := b.Sim.DeactivateMembership(mem); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sim.RenewMembership(mem); err == nil {
		t.Error("a canceled membership renewed")
	}
	if _, err := b.Sim.RenewMembership("mem_nope"); err == nil {
		t.Error("an unknown membership renewed")
	}
	community := ""
	for _, m := range b.mustAPI("GET", "/api/v1/memberships?company_id="+b.Seed.Creator.ID, nil).(map[string]any)["data"].([]any) {
		community = m.(map[string]any)["id"].(string)
		break
	}
	if _, err := b.Sim.RenewMembership(community); err == nil {
		t.Errorf("membership %s of a one-time plan renewed", community)
	}
}
