package whopsim_test

import (
	"testing"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestAfterSaleEventsDecode checks that the app's decoders read every event
// the sandbox sends, in both schemes.
func TestAfterSaleEventsDecode(t *testing.T) {
	for _, scheme := range []whopsim.Scheme{whopsim.Standard, whopsim.Legacy} {
		t.Run(string(scheme), func(t *testing.T) {
			b := setup(t, func(o *whopsim.Options) { o.WebhookScheme = scheme })
			pay, _ := b.buy("24.99", map[string]any{"purchase_id": "pur_r"})
			if err := b.Sim.Refund(pay, 1000); err != nil {
				t.Fatal(err)
			}
			dispute, err := b.Sim.Dispute(pay, "fraudulent")
			if err != nil {
				t.Fatal(err)
			}
			premium := b.mustAPI("POST", "/api/v1/checkout_configurations", map[string]any{"plan_id": b.Seed.PremiumPlanID})
			if _, err := b.Sim.Pay(whopsim.Purchase{CheckoutID: str(t, premium, "id"), UserID: b.Seed.Members[1].ID}); err != nil {
				t.Fatal(err)
			}
			b.idle()
			got := map[string]*whop.Event{}
			for i := range b.hook.Deliveries() {
				ev, err := b.verify(i, start)
				if err != nil {
					t.Fatalf("delivery %d: %v", i, err)
				}
				got[ev.Type] = ev
			}
			refund, err := got["refund.updated"].Refund()
			if err != nil || refund.Amount != 1000 || refund.Status != whop.RefundSucceeded || refund.PaymentID != pay ||
				refund.Payment == nil || refund.Payment.RefundedAmount != 1000 {
				t.Errorf("refund.updated = %+v, %v", refund, err)
			}
			d, err := got["dispute.created"].Dispute()
			if err != nil || d.ID != dispute || d.Amount != 1499 || d.PaymentID != pay || d.Reason != "fraudulent" {
				t.Errorf("dispute.created = %+v, %v", d, err)
			}
			activated := "membership.activated"
			if scheme == whopsim.Legacy {
				activated = "membership.went_valid"
			}
			m, err := got[activated].Membership()
			if err != nil || m.UserID != b.Seed.Members[1].ID || m.PlanID != b.Seed.PremiumPlanID || !m.Valid {
				t.Errorf("%s = %+v, %v", activated, m, err)
			}
		})
	}
}
