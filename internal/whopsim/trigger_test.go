package whopsim_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// trigger runs a trigger and fails the test on an error.
func (b *bundle) trigger(req whopsim.TriggerRequest) whopsim.TriggerResult {
	b.t.Helper()
	res, err := b.Sim.Trigger(req)
	if err != nil {
		b.t.Fatalf("trigger %s: %v", req.Event, err)
	}
	b.idle()
	return res
}

// refs lists "type" of each event a trigger sent, in order.
func refs(res whopsim.TriggerResult) string {
	var out []string
	for _, e := range res.Events {
		out = append(out, e.Type)
	}
	return strings.Join(out, ",")
}

func TestTriggerPaymentIsRealAndSigned(t *testing.T) {
	b := setup(t)
	bob := b.Seed.Members[1]
	res := b.trigger(whopsim.TriggerRequest{Event: "payment.succeeded", User: "@bob", Amount: "12.50",
		Metadata: map[string]string{"creditkit_purchase_id": "pur_9"}})
	if refs(res) != "payment.succeeded" || res.UserID != bob.ID || !strings.HasPrefix(res.PaymentID, "pay_") {
		t.Fatalf("result = %+v", res)
	}
	pay := b.mustAPI("GET", "/api/v1/payments/"+res.PaymentID, nil)
	fields(t, pay, map[string]string{"status": "paid", "substatus": "succeeded", "total": "12.5", "user.id": bob.ID,
		"company.id": b.Seed.Owner.ID, "metadata.experience_id": b.Seed.Creator.ExperienceID,
		"metadata.creditkit_purchase_id": "pur_9", "metadata.triggered_by": "whopsim", "refundable": "true"})
	ev, err := b.verify(0, b.clock.Now())
	if err != nil || ev.Type != "payment.succeeded" || ev.ID != res.Events[0].ID {
		t.Fatalf("delivery = %+v, %v", ev, err)
	}
	ledger := b.mustAPI("GET", "/api/v1/ledger_accounts/"+b.Seed.Owner.ID, nil)
	// $1,000 + $12.50 less the sandbox's fee (3% + 30¢ = 68¢).
	fields(t, ledger, map[string]string{"balances.0.balance": "1011.82"})
}

// TestTriggerPendingPayments: payment.pending starts a payment that stays
// pending; payment.failed or payment.succeeded with --payment ends it, at
// that time, and one that is no longer pending is refused.
func TestTriggerPendingPayments(t *testing.T) {
	b := setup(t)
	alice := b.Seed.Members[0]
	for _, end := range []struct {
		event, status, substatus, failure string
		paid                              bool
	}{
		{"payment.failed", "open", "failed", "The bank declined the transfer.", false},
		{"payment.succeeded", "paid", "succeeded", "<null>", true},
	} {
		res := b.trigger(whopsim.TriggerRequest{Event: "payment.pending", User: "@alice"})
		if refs(res) != "payment.pending" || res.UserID != alice.ID || !strings.HasPrefix(res.PaymentID, "pay_") {
			t.Fatalf("pending result = %+v", res)
		}
		fields(t, b.mustAPI("GET", "/api/v1/payments/"+res.PaymentID, nil), map[string]string{
			"status": "pending", "substatus": "pending", "total": "4.99", "user.id": alice.ID, "paid_at": "<null>"})
		b.clock.Advance(10 * time.Second)
		now := b.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		paidAt := "<null>"
		if end.paid {
			paidAt = now
		}
		// Whoever is selected, the payment's own user is the one it ends for.
		ended := b.trigger(whopsim.TriggerRequest{Event: end.event, User: "@bob", PaymentID: res.PaymentID})
		if refs(ended) != end.event || ended.PaymentID != res.PaymentID || ended.UserID != alice.ID {
			t.Fatalf("%s --payment result = %+v", end.event, ended)
		}
		fields(t, b.mustAPI("GET", "/api/v1/payments/"+res.PaymentID, nil), map[string]string{
			"status": end.status, "substatus": end.substatus, "failure_message": end.failure, "paid_at": paidAt,
			"updated_at": now})
		if _, err := b.Sim.Trigger(whopsim.TriggerRequest{Event: end.event, PaymentID: res.PaymentID}); err == nil ||
			!strings.Contains(err.Error(), "is not pending") {
			t.Fatalf("ending it again: %v, want not pending", err)
		}
	}
}

func TestTriggerRetriesOnWhopsSchedule(t *testing.T) {
	b := setup(t)
	b.hook.Reply(500, 500)
	b.trigger(whopsim.TriggerRequest{Event: "payment.failed", User: "@alice"})
	b.clock.Advance(10 * time.Second)
	b.idle()
	b.clock.Advance(20 * time.Second)
	b.idle()
	var got []string
	for _, a := range b.Sim.Deliveries() {
		got = append(got, a.Type+" "+a.Outcome+" "+a.At.Sub(start).String())
	}
	want := "payment.failed retrying 0s,payment.failed retrying 10s,payment.failed delivered 30s"
	if strings.Join(got, ",") != want {
		t.Fatalf("attempts = %v, want %s", got, want)
	}
}

func TestTriggerAfterSaleEvents(t *testing.T) {
	b := setup(t)
	tests := []struct {
		req       whopsim.TriggerRequest
		events    string
		substatus string
	}{
		{whopsim.TriggerRequest{Event: "refund.created"}, "payment.succeeded,refund.created,refund.updated", "refunded"},
		{whopsim.TriggerRequest{Event: "refund.created", Amount: "1.00"}, "payment.succeeded,refund.created,refund.updated", "partially_refunded"},
		{whopsim.TriggerRequest{Event: "dispute.created"}, "payment.succeeded,dispute.created", "dispute_needs_response"},
		{whopsim.TriggerRequest{Event: "dispute.won"}, "payment.succeeded,dispute.created,dispute.updated", "dispute_won"},
		{whopsim.TriggerRequest{Event: "dispute.lost", Reason: "product_not_received"}, "payment.succeeded,dispute.created,dispute.updated", "dispute_lost"},
	}
	for _, tt := range tests {
		res := b.trigger(tt.req)
		if refs(res) != tt.events {
			t.Errorf("%s: events %s, want %s", tt.req.Event, refs(res), tt.events)
			continue
		}
		pay := b.mustAPI("GET", "/api/v1/payments/"+res.PaymentID, nil)
		fields(t, pay, map[string]string{"status": "paid", "substatus": tt.substatus, "total": "4.99"})
		if tt.req.Reason != "" {
			fields(t, pay, map[string]string{"disputes.0.reason": tt.req.Reason, "disputes.0.id": res.DisputeID})
		}
	}
	// An existing payment: its open dispute is decided, not a new one opened.
	opened := b.trigger(whopsim.TriggerRequest{Event: "dispute.created"})
	won := b.trigger(whopsim.TriggerRequest{Event: "dispute.won", PaymentID: opened.PaymentID})
	if refs(won) != "dispute.updated" || won.DisputeID != opened.DisputeID {
		t.Errorf("deciding an open dispute = %+v", won)
	}
	part := b.trigger(whopsim.TriggerRequest{Event: "refund.created", PaymentID: won.PaymentID, Amount: "0.99"})
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+part.PaymentID, nil), map[string]string{"refunded_amount": "0.99"})
	if _, err := b.Sim.Trigger(whopsim.TriggerRequest{Event: "refund.created", PaymentID: part.PaymentID}); err == nil {
		t.Error("a second refund of one payment was accepted")
	}
}

func TestTriggerMemberships(t *testing.T) {
	b := setup(t)
	alice, carol := b.Seed.Members[0], b.Seed.Members[2]
	access := func(user string) string {
		return str(t, b.mustAPI("GET", "/api/v1/users/"+user+"/access/"+b.Seed.PremiumProductID, nil), "access_level")
	}
	on := b.trigger(whopsim.TriggerRequest{Event: "membership.activated", User: alice.ID})
	if refs(on) != "payment.succeeded,membership.activated" || access(alice.ID) != "customer" {
		t.Fatalf("activation = %+v, access %s", on, access(alice.ID))
	}
	fields(t, b.mustAPI("GET", "/api/v1/memberships/"+on.MembershipID, nil), map[string]string{
		"status": "active", "user.id": alice.ID, "plan.id": b.Seed.PremiumPlanID})
	off := b.trigger(whopsim.TriggerRequest{Event: "membership.deactivated", User: "alice"})
	if refs(off) != "membership.deactivated" || off.MembershipID != on.MembershipID || access(alice.ID) != "no_access" {
		t.Fatalf("deactivation = %+v, access %s", off, access(alice.ID))
	}
	// Carol holds premium from the seed: that membership is the one ended.
	seeded := b.trigger(whopsim.TriggerRequest{Event: "membership.deactivated", User: "@carol"})
	if refs(seeded) != "membership.deactivated" || access(carol.ID) != "no_access" {
		t.Fatalf("carol = %+v", seeded)
	}
	// Bob has none: one is bought first so there is one to end.
	bob := b.trigger(whopsim.TriggerRequest{Event: "membership.deactivated", User: "@bob"})
	if refs(bob) != "payment.succeeded,membership.activated,membership.deactivated" {
		t.Fatalf("bob = %+v", bob)
	}
	ev, err := b.verify(len(b.hook.Deliveries())-1, b.clock.Now())
	if err != nil || ev.Type != "membership.deactivated" {
		t.Fatalf("last delivery = %+v, %v", ev, err)
	}
}

func TestTriggerRefusals(t *testing.T) {
	b := setup(t)
	for _, tt := range []struct {
		req  whopsim.TriggerRequest
		want string
	}{
		{whopsim.TriggerRequest{Event: "payment.exploded"}, `unknown event "payment.exploded": want one of payment.succeeded, payment.failed,`},
		{whopsim.TriggerRequest{Event: "payment.succeeded", User: "@nobody"}, `user "@nobody" was not found`},
		{whopsim.TriggerRequest{Event: "payment.succeeded", ExperienceID: "exp_nope"}, `experience "exp_nope" was not found`},
		{whopsim.TriggerRequest{Event: "payment.succeeded", Amount: "-1"}, "plan prices cannot be negative"},
		{whopsim.TriggerRequest{Event: "refund.created", PaymentID: "pay_nope"}, `payment "pay_nope" was not found`},
		// A refund of more than the charge it would make, or of no amount.
		{whopsim.TriggerRequest{Event: "refund.created", Amount: "10"}, "amount must be more than 0 and at most 4.99 usd"},
		{whopsim.TriggerRequest{Event: "refund.created", Amount: "lots"}, "amount must be more than 0 and at most 4.99 usd"},
		{whopsim.TriggerRequest{Event: "membership.activated", PlanID: "plan_nope"}, `plan "plan_nope" was not found`},
		{whopsim.TriggerRequest{Event: "payment.failed", PaymentID: "pay_nope"}, `payment "pay_nope" was not found`},
		{whopsim.TriggerRequest{Event: "payment.succeeded", PaymentID: "pay_nope", Amount: "5"}, "amount is a new payment's price"},
	} {
		_, err := b.Sim.Trigger(tt.req)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want %q", tt.req, err, tt.want)
		}
	}
	if n := len(b.Sim.Events()); n != 0 {
		t.Errorf("refused triggers sent %d events", n)
	}
	// Nor did they make anything first: no payment Whop would list.
	if list := b.mustAPI("GET", "/api/v1/payments?company_id="+b.Seed.Owner.ID, nil); len(at(t, list, "data").([]any)) != 0 {
		t.Errorf("refused triggers left payments: %v", list)
	}
	// The control API answers the same, and lists what it can trigger.
	status, out := b.api("POST", "/_sim/trigger", map[string]any{"event": "dispute.lost", "user": "@casey"})
	if status != 200 || str(t, out, "events.2.type") != "dispute.updated" {
		t.Errorf("POST /_sim/trigger = %d %v", status, out)
	}
	_, list, _ := b.do("GET", "/_sim/trigger", nil)
	if raw, _ := json.Marshal(list); !strings.Contains(string(raw), `"name":"membership.deactivated"`) {
		t.Errorf("GET /_sim/trigger = %s", raw)
	}
}
