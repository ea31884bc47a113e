package whopsim_test

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

func TestRefundInFull(t *testing.T) {
	b := setup(t)
	pay, _ := b.buy("4.99", map[string]any{"purchase_id": "pur_1"})
	b.clock.Advance(time.Hour)
	out := b.mustAPI("POST", "/api/v1/payments/"+pay+"/refund", nil)
	fields(t, out, map[string]string{"status": "paid", "substatus": "refunded", "refunded_amount": "4.99",
		"refundable": "false", "refunded_at": "2026-03-02T13:00:00.000Z", "updated_at": "2026-03-02T13:00:00.000Z",
		"refunds.0.amount": "4.99", "refunds.0.status": "succeeded", "refunds.0.currency": "usd"})
	if got := b.mustAPI("GET", "/api/v1/payments/"+pay, nil); str(t, got, "substatus") != "refunded" {
		t.Errorf("GET after refund: substatus %s", str(t, got, "substatus"))
	}
	status, again := b.api("POST", "/api/v1/payments/"+pay+"/refund", nil)
	if status != 400 || str(t, again, "error.code") != "invalid_request" {
		t.Errorf("second refund = %d %v, want 400", status, again)
	}
	ledger := b.mustAPI("GET", "/api/v1/ledger_accounts/"+b.Seed.Owner.ID, nil)
	if got := str(t, ledger, "balances.0.balance"); got != "999.55" { // 1000 + 4.54 - 4.99
		t.Errorf("owner balance = %s, want 999.55", got)
	}

	b.idle()
	if got := b.eventTypes(); got != "payment.succeeded,refund.created,refund.updated" {
		t.Fatalf("events = %s, want payment.succeeded, refund.created, refund.updated", got)
	}
	evs := b.Sim.Events()
	var created, updated map[string]any
	json.Unmarshal(evs[1].Body, &created)
	json.Unmarshal(evs[2].Body, &updated)
	if at(t, created, "data.status") != "pending" || at(t, updated, "data.status") != "succeeded" {
		t.Errorf("refund statuses %v then %v, want pending then succeeded", at(t, created, "data.status"), at(t, updated, "data.status"))
	}
	if at(t, updated, "data.payment.id") != pay || at(t, updated, "data.payment.substatus") != "refunded" {
		t.Errorf("refund.updated payment = %v", at(t, updated, "data.payment"))
	}
}

func TestRefundPartially(t *testing.T) {
	b := setup(t)
	pay, _ := b.buy("24.99", nil)
	for _, bad := range []string{`{"partial_amount": 30}`, `{"partial_amount": 0}`, `{"partial_amount": 1.005}`, `{"partial_amount": "x"}`} {
		if status, out := b.api("POST", "/api/v1/payments/"+pay+"/refund", bad); status != 400 {
			t.Errorf("refund %s = %d %v, want 400", bad, status, out)
		}
	}
	out := b.mustAPI("POST", "/api/v1/payments/"+pay+"/refund", `{"partial_amount": 10.5}`)
	fields(t, out, map[string]string{"status": "paid", "substatus": "partially_refunded", "refunded_amount": "10.5",
		"refundable": "false", "total": "24.99", "refunds.0.amount": "10.5"})
	if status, _ := b.api("POST", "/api/v1/payments/"+pay+"/refund", `{"partial_amount": 1}`); status != 400 {
		t.Errorf("a second partial refund = %d, want 400", status)
	}
	legacy := b.mustAPI("GET", "/api/v5/app/payments/"+pay, nil)
	fields(t, legacy, map[string]string{"refunded_amount": "10.5", "refunded_at": "1772452800"})
}

func TestRefundRefusals(t *testing.T) {
	b := setup(t)
	if status, _ := b.api("POST", "/api/v1/payments/pay_nope/refund", nil); status != 404 {
		t.Errorf("refund of an unknown payment = %d, want 404", status)
	}
	co, plan := b.inlineCheckout("5", nil)
	declined, _ := b.Sim.Decline(whopPurchase(co, plan))
	if status, _ := b.api("POST", "/api/v1/payments/"+declined.ReceiptID+"/refund", nil); status != 400 {
		t.Errorf("refund of a failed payment = %d, want 400", status)
	}
}

// TestDisputesAndRefundsTakeThePaymentOnce: a payment's money goes back
// once, however its refunds and disputes are combined. A payment has one
// open dispute at a time; a decided dispute stays decided; a payment under
// dispute or lost to one is not refundable; and a won dispute leaves what
// is left of the payment to a refund or a later dispute, never more.
func TestDisputesAndRefundsTakeThePaymentOnce(t *testing.T) {
	b := setup(t)
	owner := func() int64 {
		t.Helper()
		f, err := strconv.ParseFloat(b.balance(b.Seed.Owner.ID), 64)
		if err != nil {
			t.Fatal(err)
		}
		return int64(math.Round(f * 100))
	}
	pay, _ := b.buy("100", nil)
	paid := owner()
	id, err := b.Sim.Dispute(pay, "fraudulent")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sim.Dispute(pay, "fraudulent"); err == nil {
		t.Error("a second open dispute on one payment was accepted")
	}
	status, out := b.api("POST", "/_sim/payments/"+pay+"/dispute", map[string]any{})
	if status != 400 || !strings.Contains(str(t, out, "error.message"), "already has an open dispute, "+id) {
		t.Errorf("a second dispute through the control API = %d %v, want 400 naming the open one", status, out)
	}
	status, out = b.api("POST", "/api/v1/payments/"+pay+"/refund", nil)
	if status != 400 || !strings.Contains(str(t, out, "error.message"), "dispute "+id+" is open") {
		t.Errorf("a refund during the dispute = %d %v, want 400", status, out)
	}
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+pay, nil), map[string]string{"refundable": "false", "substatus": "dispute_needs_response"})

	if err := b.Sim.UpdateDispute(id, "lost"); err != nil {
		t.Fatal(err)
	}
	if got := owner(); got != paid-10000 {
		t.Fatalf("owner balance after the lost dispute = %d, want %d (the payment's 100 taken once)", got, paid-10000)
	}
	for _, again := range []string{"won", "lost", "closed", "needs_response"} {
		if err := b.Sim.UpdateDispute(id, again); err == nil {
			t.Errorf("a lost dispute was moved to %s", again)
		}
	}
	if status, out = b.api("POST", "/api/v1/payments/"+pay+"/refund", nil); status != 400 {
		t.Errorf("an API refund after the lost dispute = %d %v, want 400", status, out)
	}
	if _, err := b.Sim.Trigger(whopsim.TriggerRequest{Event: "refund.created", PaymentID: pay}); err == nil {
		t.Error("a triggered refund after the lost dispute was accepted")
	}
	if _, err := b.Sim.Dispute(pay, "fraudulent"); err == nil {
		t.Error("a new dispute on a payment lost to one was accepted")
	}
	if got := owner(); got != paid-10000 {
		t.Errorf("owner balance after everything = %d, want %d: the payment's money went back more than once", got, paid-10000)
	}
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+pay, nil), map[string]string{"refundable": "false", "substatus": "dispute_lost",
		"refunded_amount": "0"})

	// Won, then refunded in part, then disputed again and lost: the
	// refund and the second dispute together are the payment, no more.
	pay2, _ := b.buy("100", nil)
	paid = owner()
	won, err := b.Sim.Dispute(pay2, "fraudulent")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Sim.UpdateDispute(won, "won"); err != nil {
		t.Fatal(err)
	}
	if err := b.Sim.UpdateDispute(won, "lost"); err == nil {
		t.Error("a won dispute was then lost")
	}
	if err := b.Sim.Refund(pay2, 3000); err != nil {
		t.Fatalf("a refund after a won dispute: %v", err)
	}
	second, err := b.Sim.Dispute(pay2, "fraudulent")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Sim.UpdateDispute(second, "lost"); err != nil {
		t.Fatal(err)
	}
	if got := owner(); got != paid-10000 {
		t.Errorf("owner balance = %d, want %d: a refund of 30 and a lost dispute of the other 70", got, paid-10000)
	}
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+pay2, nil), map[string]string{"disputes.1.amount": "70"})
}
