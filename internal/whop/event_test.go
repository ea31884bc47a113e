package whop

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// deliver signs body in scheme and returns the verified event.
func deliver(t *testing.T, scheme Scheme, body string) *Event {
	t.Helper()
	h := http.Header{}
	if scheme == SchemeLegacy {
		SetLegacyHeaders(h, testSecret, testNow, []byte(body))
	} else {
		SetStandardHeaders(h, testSecret, "msg_42", testNow, []byte(body))
	}
	ev, err := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow))).Verify(h, []byte(body))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return ev
}

func v1Envelope(typ, data string) string {
	return `{"id":"msg_42","api_version":"v1","type":"` + typ + `","timestamp":"2025-01-01T00:00:00.000Z","account_id":"biz_1","data":` + data + `}`
}

func legacyEnvelope(action, data string) string {
	return `{"action":"` + action + `","api_version":"v5","company":"biz_1","data":` + data + `}`
}

func TestEventPaymentBothGenerations(t *testing.T) {
	v1 := deliver(t, SchemeStandard, v1Envelope(EventPaymentSucceeded, fixture(t, "payment_v1.json")))
	if v1.CompanyID != "biz_1" || v1.ID != "msg_42" {
		t.Errorf("envelope = %+v", v1)
	}
	p, err := v1.Payment()
	if err != nil {
		t.Fatal(err)
	}
	assertPayment(t, p, wantPayment(PaymentsV1, true))

	legacy := deliver(t, SchemeLegacy, legacyEnvelope(EventAppPaymentSucceeded, fixture(t, "payment_v5.json")))
	if legacy.CompanyID != "biz_1" || legacy.Type != EventAppPaymentSucceeded {
		t.Errorf("envelope = %+v", legacy)
	}
	p5, err := legacy.Payment()
	if err != nil {
		t.Fatal(err)
	}
	assertPayment(t, p5, wantPayment(PaymentsV5, false))
}

func TestEventRefund(t *testing.T) {
	refunded := strings.Replace(fixture(t, "payment_v1.json"), `"substatus": "succeeded"`, `"substatus": "refunded"`, 1)
	v1 := deliver(t, SchemeStandard, v1Envelope(EventRefundCreated,
		`{"id":"rfnd_1","amount":8.99,"currency":"usd","status":"succeeded","created_at":"2025-01-02T00:00:00.000Z","payment":`+refunded+`}`))
	r, err := v1.Refund()
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "rfnd_1" || r.Amount != 899 || r.Currency != money.USD || r.Status != RefundSucceeded ||
		r.PaymentID != "pay_6dWDN0kA5QW2hm" || !r.CreatedAt.Equal(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)) ||
		r.Payment == nil || r.Payment.Substatus != SubstatusRefunded || r.Payment.API != PaymentsV1 {
		t.Errorf("refund = %+v", r)
	}

	legacy := deliver(t, SchemeLegacy, legacyEnvelope(EventRefundCreated,
		`{"id":"rfnd_2","status":"pending","amount":"1.50","currency":"usd","created_at":1735776000,"payment_id":"pay_6dWDN0kA5QW2hm"}`))
	r2, err := legacy.Refund()
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID != "rfnd_2" || r2.Amount != 150 || r2.Status != RefundPending || r2.PaymentID != "pay_6dWDN0kA5QW2hm" ||
		r2.Payment != nil || !r2.CreatedAt.Equal(time.Unix(1735776000, 0)) {
		t.Errorf("refund = %+v", r2)
	}
}

func TestEventDispute(t *testing.T) {
	eurPayment := strings.Replace(fixture(t, "payment_v1.json"), `"currency": "usd"`, `"currency": "eur"`, 1)
	v1 := deliver(t, SchemeStandard, v1Envelope(EventDisputeCreated,
		`{"id":"dspt_1","amount":8.99,"status":"needs_response","reason":"fraudulent","payment":`+eurPayment+`}`))
	d, err := v1.Dispute()
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "dspt_1" || d.Amount != 899 || d.Currency != money.EUR || d.Status != "needs_response" ||
		d.Reason != "fraudulent" || d.PaymentID != "pay_6dWDN0kA5QW2hm" || d.Payment == nil {
		t.Errorf("dispute = %+v (currency comes from the payment when omitted)", d)
	}
	legacy := deliver(t, SchemeLegacy, legacyEnvelope(EventDisputeUpdated,
		`{"id":"dspt_2","status":"won","amount":500,"currency":"jpy","created_at":"1735776000","payment_id":"pay_2","payment":{"id":"pay_2","final_amount":500,"currency":"jpy","user_id":"user_1"}}`))
	d2, err := legacy.Dispute()
	if err != nil {
		t.Fatal(err)
	}
	if d2.Amount != 500 || d2.Currency != money.JPY || d2.Status != "won" || d2.PaymentID != "pay_2" ||
		d2.Payment.Total != 500 || d2.Payment.UserID != "user_1" || d2.Payment.API != PaymentsV5 {
		t.Errorf("dispute = %+v, payment %+v", d2, d2.Payment)
	}
}

func TestEventMembership(t *testing.T) {
	v1 := deliver(t, SchemeStandard, v1Envelope(EventMembershipActivated,
		`{"id":"mem_1","status":"active","plan":{"id":"plan_p"},"product":{"id":"prod_p"},"user":{"id":"user_1","username":"alice"},"metadata":{"experience_id":"exp_1"}}`))
	m, err := v1.Membership()
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "mem_1" || m.Status != MembershipActive || !m.Valid || m.PlanID != "plan_p" || m.ProductID != "prod_p" ||
		m.UserID != "user_1" || m.Metadata["experience_id"] != "exp_1" {
		t.Errorf("membership = %+v", m)
	}
	legacy := deliver(t, SchemeLegacy, legacyEnvelope(EventMembershipWentInvalid,
		`{"id":"mem_1","product_id":"prod_p","user_id":"user_1","plan_id":"plan_p","status":"active","valid":false,"metadata":{}}`))
	m2, err := legacy.Membership()
	if err != nil {
		t.Fatal(err)
	}
	if m2.Valid || m2.Status != MembershipActive || m2.UserID != "user_1" || m2.PlanID != "plan_p" || m2.ProductID != "prod_p" {
		t.Errorf("membership = %+v (Whop's own valid flag wins over the status)", m2)
	}
}

// TestAmountsBeyondTheLargestAreRefused: an amount past MaxAmount, either
// side of zero, in a dispute, a refund or a payment, is an error, not a
// number the reports would sum past int64; MaxAmount itself is read.
func TestAmountsBeyondTheLargestAreRefused(t *testing.T) {
	dispute := func(amount string) error {
		_, err := deliver(t, SchemeStandard, v1Envelope(EventDisputeCreated,
			`{"id":"dspt_1","amount":`+amount+`,"currency":"usd","status":"needs_response","payment":{"id":"pay_1"}}`)).Dispute()
		return err
	}
	refund := func(amount string) error {
		_, err := deliver(t, SchemeStandard, v1Envelope(EventRefundCreated,
			`{"id":"rfnd_1","amount":`+amount+`,"currency":"usd","status":"succeeded","payment":{"id":"pay_1"}}`)).Refund()
		return err
	}
	payment := func(amount string) error {
		body := strings.Replace(fixture(t, "payment_v1.json"), `"total": 8.99`, `"total": `+amount, 1)
		if body == fixture(t, "payment_v1.json") {
			t.Fatal("the payment fixture has no total of 8.99 to replace")
		}
		_, err := deliver(t, SchemeStandard, v1Envelope(EventPaymentSucceeded, body)).Payment()
		return err
	}
	for name, read := range map[string]func(string) error{"dispute": dispute, "refund": refund, "payment": payment} {
		for _, amount := range []string{"1000000000000.01", "-1000000000000.01", "92233720368547758.07", `"92233720368547758.07"`} {
			if err := read(amount); !errors.Is(err, ErrAmountTooLarge) {
				t.Errorf("%s of %s: err = %v, want ErrAmountTooLarge", name, amount, err)
			}
		}
		if err := read("1000000000000.00"); err != nil {
			t.Errorf("%s of exactly MaxAmount: %v", name, err)
		}
	}
}

func TestEventDataErrors(t *testing.T) {
	tests := []struct {
		name string
		ev   *Event
		call func(*Event) error
	}{
		{"no data", deliver(t, SchemeStandard, `{"type":"payment.succeeded"}`), func(e *Event) error { _, err := e.Payment(); return err }},
		{"null data", deliver(t, SchemeStandard, `{"type":"refund.created","data":null}`), func(e *Event) error { _, err := e.Refund(); return err }},
		{"array data", deliver(t, SchemeStandard, `{"type":"dispute.created","data":[]}`), func(e *Event) error { _, err := e.Dispute(); return err }},
		{"string data", deliver(t, SchemeLegacy, `{"action":"membership.went_valid","data":"mem_1"}`), func(e *Event) error { _, err := e.Membership(); return err }},
		{"bad amount", deliver(t, SchemeStandard, `{"type":"payment.succeeded","data":{"total":"lots"}}`), func(e *Event) error { _, err := e.Payment(); return err }},
		{"bad refund amount", deliver(t, SchemeStandard, `{"type":"refund.created","data":{"amount":"x"}}`), func(e *Event) error { _, err := e.Refund(); return err }},
		{"bad embedded payment", deliver(t, SchemeStandard, `{"type":"refund.created","data":{"amount":1,"payment":{"currency":"$$"}}}`), func(e *Event) error { _, err := e.Refund(); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(tt.ev); !errors.Is(err, ErrMalformedEvent) {
				t.Errorf("err = %v, want ErrMalformedEvent", err)
			}
		})
	}
}

func TestEventEnvelopeVariants(t *testing.T) {
	ev := deliver(t, SchemeStandard, `{"type":"membership.deactivated","company_id":"biz_7","timestamp":"not a time","previous_attributes":{"status":"active"},"data":{}}`)
	if ev.CompanyID != "biz_7" || !ev.Timestamp.Equal(testNow) || ev.APIVersion != "v1" {
		t.Errorf("event = %+v (an unreadable body timestamp falls back to the header)", ev)
	}
	legacy := deliver(t, SchemeLegacy, `{"action":"payment.succeeded","company":null,"data":{}}`)
	if legacy.CompanyID != "" || legacy.APIVersion != "v5" {
		t.Errorf("event = %+v", legacy)
	}
}
