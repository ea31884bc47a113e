package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/jackc/pgx/v5/pgxpool"
)

// post sends a signed delivery to the app at base: Standard Webhooks with
// msgID, or the legacy x-whop-signature scheme.
func (a *app) post(base, msgID string, legacy bool, body []byte) (int, map[string]any, string) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/webhook", bytes.NewReader(body))
	if legacy {
		whop.SetLegacyHeaders(req.Header, a.env.Seed.App.WebhookSecret, time.Now(), body)
	} else {
		whop.SetStandardHeaders(req.Header, a.env.Seed.App.WebhookSecret, msgID, time.Now(), body)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return res.StatusCode, out, string(raw)
}

// event is a v1 envelope around data.
func event(t *testing.T, msgID, typ string, data any) []byte {
	t.Helper()
	return jsonBody(t, map[string]any{"id": msgID, "api_version": "v1", "type": typ,
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "data": data})
}

// TestSignedDeliveriesOfUnexpectedShapeAreRefusedAnd2xx sends the signed
// deliveries the outside check answered with 500s, and their neighbours:
// each is answered 200, recorded as refused with its reason (and shown so
// on the dashboard), and changes no other row; sent again it is a
// duplicate. Refunds and disputes with a payment-shaped object, payment ids
// " " and 1e400 on a creator's sale (which broke a check constraint), a NUL
// in the purchase id of the metadata.
func TestSignedDeliveriesOfUnexpectedShapeAreRefusedAnd2xx(t *testing.T) {
	a := setup(t, withShare(1000)) // a creator's sale owes a revenue share
	member, owner := a.member(0), a.env.Seed.Owner.ID
	pur1, pay1 := a.buyIn(a.experience(), member, "starter")
	ch2, _, pur2 := a.charge(member, "starter") // pending: any payment naming it would credit it
	ch1 := a.purchase(pur1).CheckoutID

	// payment is a payment object as Whop's v1 API writes one.
	payment := func(id any, purchase, checkout string) map[string]any {
		return map[string]any{"id": id, "status": "paid", "substatus": "succeeded", "currency": "usd",
			"total": 4.99, "subtotal": 4.99, "refunded_amount": 0, "user": map[string]any{"id": member},
			"company": map[string]any{"id": owner}, "checkout_configuration_id": checkout,
			"metadata": map[string]any{"creditkit_purchase_id": purchase}}
	}
	legacy := func(data any) []byte {
		return jsonBody(t, map[string]any{"action": "payment.succeeded", "api_version": "v5", "company": owner, "data": data})
	}
	type delivery struct {
		name, id string // id: the webhook-id sent, "" for a legacy delivery
		body     []byte
		reason   string // a part of the recorded outcome
	}
	tests := []delivery{
		{"refund.created with a payment", "msg_r1", event(t, "msg_r1", "refund.created", payment(pay1, pur1, ch1)),
			"refund data is a payment (\"" + pay1 + "\"), not a refund"},
		{"refund.updated with a payment", "msg_r2", event(t, "msg_r2", "refund.updated", payment(pay1, pur1, ch1)),
			"refund data is a payment"},
		{"dispute.created with a payment", "msg_d1", event(t, "msg_d1", "dispute.created", payment(pay1, pur1, ch1)),
			"dispute data is a payment"},
		{"refund naming no payment", "msg_r3", event(t, "msg_r3", "refund.created", map[string]any{"id": "rf_1", "amount": 1, "status": "succeeded"}),
			"refund rf_1 names no payment"},
		{"dispute reason with NUL", "msg_d2", event(t, "msg_d2", "dispute.created",
			map[string]any{"id": "dspt_1", "amount": 4.99, "status": "needs_response", "reason": "fraud\x00", "payment": map[string]any{"id": pay1}}),
			"dispute reason \"fraud\\x00\" is not plain text of at most 2000 bytes"},
		{"payment id \" \" on a creator's sale", "msg_p1", event(t, "msg_p1", "payment.succeeded", payment(" ", pur2, ch2)),
			"payment id \" \" is not a Whop payment id"},
		{"payment id 1e400 as a number", "msg_p2", event(t, "msg_p2", "payment.succeeded", payment(json.Number("1e400"), pur2, ch2)),
			"payment id \"1e400\" is not a Whop payment id"},
		{"payment id 1e400 as a string", "msg_p3", event(t, "msg_p3", "payment.succeeded", payment("1e400", pur2, ch2)),
			"payment id \"1e400\""},
		{"payment id \" \", legacy", "", legacy(payment(" ", pur2, ch2)), "payment id \" \""},
		{"NUL in metadata.creditkit_purchase_id", "msg_p4", event(t, "msg_p4", "payment.succeeded", payment("pay_X1", pur2+"\x00", ch2)),
			"metadata.creditkit_purchase_id \"" + pur2 + "\\x00\" is not a Creditkit purchase id"},
		{"failure message with NUL", "msg_p5", event(t, "msg_p5", "payment.failed",
			map[string]any{"id": "pay_X2", "status": "open", "failure_message": "declined\x00", "metadata": map[string]any{"creditkit_purchase_id": pur2}}),
			"payment failure message"},
		{"membership of no user", "msg_m1", event(t, "msg_m1", "membership.activated",
			map[string]any{"id": "mem_1", "status": "active", "user": map[string]any{"id": "user_1\x00"}, "plan": map[string]any{"id": a.env.Seed.PremiumPlanID}}),
			"user \"user_1\\x00\" is not a Whop user id"},
		{"event type with NUL", "msg_t1", jsonBody(t, map[string]any{"type": "payment.succeeded\x00", "data": payment(pay1, pur1, ch1)}),
			"event type \"payment.succeeded\\x00\" is not a Whop event name"},
		{"company id with junk", "msg_t2", jsonBody(t, map[string]any{"type": "payment.succeeded", "company_id": owner + " OR 1=1", "data": payment(pay1, pur1, ch1)}),
			"is not a Whop company id"},
		{"body that is no event", "msg_b1", []byte(`["not", "an", "event"]`), "the body is not a Whop event"},
		{"data that is unreadable", "msg_b2", event(t, "msg_b2", "payment.succeeded", map[string]any{"id": "pay_X3", "total": "lots"}),
			"its data is unreadable"},
		// One signed dispute past any real amount made every dashboard's
		// revenue report overflow (a 500 on each load); a negative one
		// reached the disputes table's check and was logged as an error.
		{"dispute of 92 quadrillion dollars", "msg_d3", event(t, "msg_d3", "dispute.created",
			map[string]any{"id": "dspt_2", "amount": json.Number("92233720368547758.07"), "currency": "usd", "status": "needs_response", "payment": map[string]any{"id": pay1}}),
			"amount beyond the largest one read"},
		{"dispute of a negative amount", "msg_d4", event(t, "msg_d4", "dispute.created",
			map[string]any{"id": "dspt_3", "amount": -5, "currency": "usd", "status": "needs_response", "payment": map[string]any{"id": pay1}}),
			"dispute dspt_3 amount -5 usd is negative"},
		{"refund of 92 quadrillion dollars", "msg_r4", event(t, "msg_r4", "refund.created",
			map[string]any{"id": "rf_2", "amount": json.Number("92233720368547758.07"), "currency": "usd", "status": "succeeded", "payment": map[string]any{"id": pay1}}),
			"amount beyond the largest one read"},
		{"webhook-id not UTF-8", "msg_\xff", event(t, "msg", "payment.succeeded", payment(pay1, pur1, ch1)),
			"webhook-id \"msg_\\xff\" is not printable text"},
	}
	a.settle()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.snapshot()
			deliveries := a.count(`SELECT count(*) FROM webhook_deliveries`)
			status, out, raw := a.post(a.url, tt.id, tt.id == "", tt.body)
			outcome, _ := out["outcome"].(string)
			if status != 200 || !strings.HasPrefix(outcome, "refused: ") || !strings.Contains(outcome, tt.reason) {
				t.Fatalf("%d %s; want 200 refused with %q", status, raw, tt.reason)
			}
			// The delivery is recorded under its webhook-id (or, for the
			// legacy scheme, the id derived from its body, which the reply
			// names), or a digest of an id that is no printable text.
			id, _ := out["received"].(string)
			switch tt.id {
			case "":
			case "msg_\xff":
				id = "unprintable_"
			default:
				id = tt.id
			}
			if changed := changedTables(before, a.snapshot()); len(changed) != 1 || changed[0] != "webhook_deliveries" {
				t.Fatalf("a refusal changed the tables %v", changed)
			}
			var rec struct{ id, outcome, typ string }
			err := a.db.Pool.QueryRow(a.ctx, `SELECT d.id, d.outcome, d.event_type FROM webhook_deliveries d
				WHERE d.received_at = (SELECT max(received_at) FROM webhook_deliveries)`).Scan(&rec.id, &rec.outcome, &rec.typ)
			if err != nil || a.count(`SELECT count(*) FROM webhook_deliveries`) != deliveries+1 || rec.outcome != outcome ||
				!strings.HasPrefix(rec.id, id) || (id != "unprintable_" && rec.id != id) {
				t.Fatalf("recorded %+v (%v), want one row %q with %q", rec, err, id, outcome)
			}
			after := a.snapshot()
			status, out, raw = a.post(a.url, tt.id, tt.id == "", tt.body)
			if status != 200 || out["outcome"] != "duplicate" || changedTables(after, a.snapshot()) != nil {
				t.Fatalf("sent again: %d %s", status, raw)
			}
		})
	}
	// Nothing was credited, refunded or shared, and the pending purchase
	// is still pending for its real payment.
	if b := a.balance(member); b != 100 {
		t.Errorf("balance = %d, want the 100 of the one real purchase", b)
	}
	if p := a.purchase(pur2); p.Status != ledger.PurchasePending || p.PaymentID != "" {
		t.Errorf("pending purchase = %+v", p)
	}
	if n := a.count(`SELECT count(*) FROM revenue_shares`); n != 1 {
		t.Errorf("revenue shares = %d, want the real sale's only", n)
	}
	// The owner's dashboard lists the refusals, with their reasons.
	res, body := a.get("/dashboard/"+owner, a.env.Seed.OwnerAdmin.ID)
	pg := parsePage(t, body)
	if res.StatusCode != 200 || !strings.Contains(pg.text("delivery-msg_p1"), `refused: payment id " " is not a Whop payment id`) ||
		!strings.Contains(body, `class="outcome danger">refused: refund data is a payment`) {
		t.Fatalf("dashboard deliveries: %d %q", res.StatusCode, pg.text("deliveries"))
	}
}

// TestTransientFailuresOfAWebhookStay5xx: when Whop or Postgres cannot be
// reached, a well-formed delivery is answered 5xx and nothing is recorded,
// so Whop delivers it again; once they are back, it is processed.
func TestTransientFailuresOfAWebhookStay5xx(t *testing.T) {
	a := setup(t)
	member := a.member(0)
	_, pay := a.buyIn(a.experience(), member, "starter")
	refund := event(t, "msg_rf", "refund.created", map[string]any{"id": "rf_1", "amount": 4.99, "currency": "usd",
		"status": "succeeded", "payment": map[string]any{"id": pay}})
	before := a.snapshot()

	// Whop answers 500 to everything: the refund's payment cannot be read.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 1 })
	status, _, raw := a.post(a.url, "msg_rf", false, refund)
	if status < 500 || !strings.Contains(raw, "whop_unavailable") {
		t.Fatalf("with Whop down: %d %s, want 5xx", status, raw)
	}
	a.sim.SetFaults(whopsim.Faults{})

	// Postgres cannot be reached: a replica of the app whose pool is closed.
	pool, err := pgxpool.New(a.ctx, a.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	down := *a
	down.store = ledger.NewStore(pool)
	h, _, _ := down.build(a.cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	status, _, raw = a.post(srv.URL, "msg_rf", false, refund)
	if status < 500 {
		t.Fatalf("with Postgres down: %d %s, want 5xx", status, raw)
	}
	if changed := changedTables(before, a.snapshot()); len(changed) != 0 {
		t.Fatalf("failed deliveries changed the tables %v", changed)
	}
	// Whop's retry, once both are back, is processed as usual.
	status, out, raw := a.post(a.url, "msg_rf", false, refund)
	if got := a.outcomes("refund.created"); status != 200 || out["outcome"] != "no change" || len(got) != 1 || got[0] != "already fulfilled" {
		t.Fatalf("retried: %d %s, recorded %q", status, raw, got)
	}
}

// TestAnUnusableUsernameCostsNoCredits: the buyer's @username is shown on
// the creator's receipts, nothing more. A paid payment whose username is no
// Whop username (a NUL, which Postgres refuses to store; a direction
// override, which would disguise the name on screen) still credits its
// purchase, and the receipt names the member by user id.
func TestAnUnusableUsernameCostsNoCredits(t *testing.T) {
	a := setup(t)
	member, owner := a.member(0), a.env.Seed.Owner.ID
	for i, username := range []string{"ali\x00ce", "\u202ealice"} {
		ch, _, pur := a.charge(member, "starter")
		msg := fmt.Sprint("msg_user", i)
		status, out, raw := a.post(a.url, msg, false, event(t, msg, "payment.succeeded", map[string]any{
			"id": fmt.Sprint("pay_User", i), "status": "paid", "substatus": "succeeded", "currency": "usd",
			"total": 4.99, "subtotal": 4.99, "refunded_amount": 0, "user": map[string]any{"id": member, "username": username},
			"company": map[string]any{"id": owner}, "checkout_configuration_id": ch,
			"metadata": map[string]any{"creditkit_purchase_id": pur}}))
		if status != 200 || out["outcome"] != "credited 100, took back 0" {
			t.Fatalf("username %q: %d %s, want the purchase credited", username, status, raw)
		}
		if p := a.purchase(pur); p.Status != ledger.PurchasePaid || p.PaymentID != fmt.Sprint("pay_User", i) || p.BuyerUsername != "" {
			t.Fatalf("username %q: purchase %+v, want paid with no username", username, p)
		}
		if b := a.balance(member); b != int64(100*(i+1)) {
			t.Fatalf("username %q: balance %d", username, b)
		}
	}
}

// TestARefundOfAPaymentWhopDoesNotKnowIsIgnored: a signed refund naming a
// payment Whop answers 404 for was answered 500 on every try, each logged
// as the app's error, and never recorded. It is recorded as ignored, says
// why, changes nothing else, and a repeat is a duplicate.
func TestARefundOfAPaymentWhopDoesNotKnowIsIgnored(t *testing.T) {
	a := setup(t)
	member := a.member(0)
	a.buyIn(a.experience(), member, "starter")
	a.settle()
	body := event(t, "msg_rx", "refund.created", map[string]any{"id": "rf_unknown1", "amount": 1, "currency": "usd",
		"status": "succeeded", "payment": map[string]any{"id": "pay_NoSuchPayment1"}})
	before := a.snapshot()
	status, out, raw := a.post(a.url, "msg_rx", false, body)
	want := "ignored: refund rf_unknown1 is of payment pay_NoSuchPayment1, which Whop does not know"
	if status != 200 || out["outcome"] != want {
		t.Fatalf("%d %s, want 200 %q", status, raw, want)
	}
	if outcome, purchase := a.delivery("msg_rx"); outcome != want || purchase != "" {
		t.Fatalf("recorded %q for purchase %q", outcome, purchase)
	}
	if changed := changedTables(before, a.snapshot()); len(changed) != 1 || changed[0] != "webhook_deliveries" {
		t.Fatalf("the delivery changed the tables %v", changed)
	}
	if status, out, raw := a.post(a.url, "msg_rx", false, body); status != 200 || out["outcome"] != "duplicate" {
		t.Fatalf("sent again: %d %s", status, raw)
	}
	if b := a.balance(member); b != 100 {
		t.Fatalf("balance = %d, want 100", b)
	}
}
