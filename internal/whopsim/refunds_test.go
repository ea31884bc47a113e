package whopsim_test

import (
	"encoding/json"
	"testing"
	"time"
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
