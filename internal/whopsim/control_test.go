package whopsim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/whop"
)

func TestControlAPI(t *testing.T) {
	b := setup(t)
	ctl := func(method, path string, body any, want int) any {
		t.Helper()
		status, out, _ := b.do(method, path, body)
		if status != want {
			t.Fatalf("%s %s = %d %v, want %d", method, path, status, out, want)
		}
		return out
	}
	fields(t, ctl("GET", "/_sim/seed", nil, 200), map[string]string{"app.id": b.Seed.App.ID,
		"owner_company.id": b.Seed.Owner.ID, "premium_plan_id": b.Seed.PremiumPlanID, "members.2.username": "carol"})

	bob := b.Seed.Members[1].ID
	ctl("POST", "/_sim/user", map[string]any{"user_id": bob}, 200)
	fields(t, ctl("GET", "/_sim/user", nil, 200), map[string]string{"user_id": bob})
	ctl("POST", "/_sim/user", map[string]any{"user_id": "user_nope"}, 404)
	tok := ctl("POST", "/_sim/token", map[string]any{}, 200)
	v, _ := whop.NewTokenVerifier(b.Seed.App.ID, whop.WithJWKSURL(b.JWKSURL), whop.WithTokenClock(b.clock.Now))
	if got, err := v.Verify(context.Background(), str(t, tok, "token")); err != nil || got.UserID != bob {
		t.Errorf("control token: %v %v", got, err)
	}

	fields(t, ctl("POST", "/_sim/faults", map[string]any{"drop_next": 2, "api_latency_ms": 5}, 200),
		map[string]string{"drop_next": "2", "api_latency_ms": "5", "duplicate_next": "0"})
	fields(t, ctl("POST", "/_sim/faults", map[string]any{"token": "expired"}, 200),
		map[string]string{"drop_next": "2", "token": "expired"})
	ctl("POST", "/_sim/faults", "{nope", 400)
	ctl("DELETE", "/_sim/faults", nil, 200)
	fields(t, ctl("GET", "/_sim/faults", nil, 200), map[string]string{"drop_next": "0", "token": ""})

	fields(t, ctl("POST", "/_sim/webhook", map[string]any{"scheme": "legacy"}, 200),
		map[string]string{"scheme": "legacy", "url": b.hook.URL})
	ctl("POST", "/_sim/webhook", map[string]any{"scheme": "smoke"}, 400)
	ctl("POST", "/_sim/webhook", map[string]any{"scheme": "standard"}, 200)

	// The modal's two calls.
	co, plan := b.inlineCheckout("4.99", map[string]any{"purchase_id": "pur_c"})
	fields(t, ctl("GET", "/_sim/checkout?id="+co+"&plan_id="+plan, nil, 200), map[string]string{
		"title": "Creditkit purchase", "company": "Creditkit Labs", "charge": "4.99", "plan.currency": "usd",
		"user.id": bob, "user.username": "bob", "metadata.purchase_id": "pur_c"})
	ctl("GET", "/_sim/checkout?id="+co+"&plan_id="+b.Seed.PremiumPlanID, nil, 400)
	paid := ctl("POST", "/_sim/checkout", map[string]any{"id": co, "plan_id": plan, "outcome": "pay"}, 200)
	pay := str(t, paid, "receiptId")
	if str(t, paid, "sessionId") != co || !strings.HasPrefix(pay, "pay_") {
		t.Errorf("pay = %v", paid)
	}
	declined := ctl("POST", "/_sim/checkout", map[string]any{"id": co, "plan_id": plan, "outcome": "decline"}, 200)
	fields(t, declined, map[string]string{"error": "Your card was declined."})
	ctl("POST", "/_sim/checkout", map[string]any{"id": co, "outcome": "maybe"}, 400)

	ctl("POST", "/_sim/payments/"+pay+"/refund", map[string]any{"percent": 50}, 200)
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+pay, nil), map[string]string{"refunded_amount": "2.49", "substatus": "partially_refunded"})
	ctl("POST", "/_sim/payments/"+pay+"/refund", map[string]any{}, 400)
	ctl("POST", "/_sim/payments/pay_nope/refund", map[string]any{}, 404)
	ctl("POST", "/_sim/payments/pay_nope/refund", map[string]any{"amount": "1.00"}, 404)

	dispute := ctl("POST", "/_sim/payments/"+pay+"/dispute", map[string]any{"reason": "product_not_received"}, 200)
	ctl("POST", "/_sim/disputes/"+str(t, dispute, "dispute_id"), map[string]any{"status": "lost"}, 200)
	ctl("POST", "/_sim/disputes/"+str(t, dispute, "dispute_id"), map[string]any{"status": "sideways"}, 400)
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+pay, nil), map[string]string{"substatus": "dispute_lost",
		"disputes.0.status": "lost", "disputes.0.reason": "product_not_received", "disputes.0.amount": "2.5"})

	memberships := b.mustAPI("GET", "/api/v1/memberships?user_ids[]="+bob, nil)
	mem := str(t, memberships, "data.0.id")
	ctl("POST", "/_sim/memberships/"+mem+"/deactivate", nil, 200)
	ctl("POST", "/_sim/memberships/"+mem+"/deactivate", nil, 400)
	fields(t, b.mustAPI("GET", "/api/v1/users/"+bob+"/access/"+b.Seed.Creator.ExperienceID, nil),
		map[string]string{"access_level": "no_access"})

	b.idle()
	events := at(t, ctl("GET", "/_sim/events", nil, 200), "data").([]any)
	var types []string
	for _, ev := range events {
		types = append(types, str(t, ev, "type"))
	}
	want := "payment.succeeded,payment.failed,refund.created,refund.updated,dispute.created,dispute.updated,membership.deactivated"
	if strings.Join(types, ",") != want {
		t.Errorf("events = %v, want %s", types, want)
	}
	first := str(t, events[0], "id")
	ctl("POST", "/_sim/events/"+first+"/redeliver", map[string]any{"times": 2}, 200)
	ctl("POST", "/_sim/events/msg_nope/redeliver", nil, 404)
	ctl("POST", "/_sim/events/deliver", map[string]any{"event_ids": []string{first, str(t, events[1], "id")}, "shuffle": true}, 200)
	fields(t, ctl("POST", "/_sim/webhooks/release", nil, 200), map[string]string{"released": "0"})
	b.idle()
	mine := at(t, ctl("GET", "/_sim/deliveries?event_id="+first, nil, 200), "data").([]any)
	if len(mine) != 4 {
		t.Errorf("deliveries of %s = %d, want the first, two redeliveries and one more", first, len(mine))
	}
	fields(t, mine[0], map[string]string{"event_id": first, "type": "payment.succeeded", "attempt": "1",
		"status": "200", "outcome": "delivered", "scheme": "standard", "url": b.hook.URL})

	ctl("POST", "/_sim/messages", map[string]any{"method": "ping", "data": "ping", "reply": "pong"}, 200)
	fields(t, ctl("GET", "/_sim/messages", nil, 200), map[string]string{"data.0.method": "ping", "data.0.reply": "pong"})
	fields(t, ctl("GET", "/_sim/state", nil, 200), map[string]string{"payments." + pay + ".substatus": "dispute_lost"})

	ctl("POST", "/_sim/reset", nil, 200)
	if status, _ := b.api("GET", "/api/v1/payments/"+pay, nil); status != http.StatusNotFound {
		t.Errorf("after reset the payment still reads %d", status)
	}
	fields(t, ctl("GET", "/_sim/user", nil, 200), map[string]string{"user_id": b.Seed.Members[0].ID})
	ctl("GET", "/_sim/nothing", nil, 404)
}
