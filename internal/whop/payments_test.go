package whop

import (
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantPayment is the one payment all fixtures describe, as each generation
// can express it: fields a generation does not carry are zero.
func wantPayment(api PaymentsAPI, expanded bool) Payment {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p := Payment{
		ID: "pay_6dWDN0kA5QW2hm", API: api, Status: PaymentPaid, Substatus: SubstatusSucceeded,
		Currency: money.USD, Subtotal: 1000, Total: 899, USDTotal: 899, AmountAfterFees: 812,
		UserID: "user_1", Username: "alice", UserEmail: "alice@example.com",
		MembershipID: "mem_1", MembershipStatus: MembershipActive,
		PlanID: "plan_1", ProductID: "prod_1", CompanyID: "biz_1", CheckoutConfigurationID: "ch_1",
		Metadata:  map[string]string{"purchase_id": "pur_1", "credits": "100"},
		CreatedAt: t0, UpdatedAt: t0.Add(time.Minute), PaidAt: t0.Add(30 * time.Second),
		Refundable: true, BillingReason: "one_time", CardBrand: "visa", CardLast4: "4242", PaymentMethodType: "card",
	}
	switch api {
	case PaymentsV2:
		p.AmountAfterFees, p.MembershipStatus = 0, "" // v2 reports no net; membership unexpanded
		if !expanded {
			p.Username, p.UserEmail = "", ""
		}
	case PaymentsV5:
		p.Username, p.UserEmail, p.MembershipStatus = "", "", "" // flat ids only
	}
	return p
}

func assertPayment(t *testing.T, got *Payment, want Payment) {
	t.Helper()
	if got == nil {
		t.Fatal("payment is nil")
	}
	gv, wv := reflect.ValueOf(*got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if gt, ok := g.(time.Time); ok {
			if !gt.Equal(w.(time.Time)) {
				t.Errorf("%s = %v, want %v", name, gt, w)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %#v, want %#v", name, g, w)
		}
	}
}

func TestPaymentGenerationsNormalizeAlike(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		path     string
		api      PaymentsAPI
		expanded bool
	}{
		{"v1", "payment_v1.json", "/api/v1/payments/pay_6dWDN0kA5QW2hm", PaymentsV1, true},
		{"v2 expanded", "payment_v2_expanded.json", "/api/v2/payments/pay_6dWDN0kA5QW2hm", PaymentsV2, true},
		{"v2 ids only", "payment_v2.json", "/api/v2/payments/pay_6dWDN0kA5QW2hm", PaymentsV2, false},
		{"v5", "payment_v5.json", "/api/v5/app/payments/pay_6dWDN0kA5QW2hm", PaymentsV5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := setup(t, replyJSON(fixture(t, tt.fixture)))
			got, err := c.GetPaymentVia(t.Context(), tt.api, "pay_6dWDN0kA5QW2hm")
			if err != nil {
				t.Fatal(err)
			}
			r := only(t, f)
			assertRequest(t, r, http.MethodGet, tt.path)
			if tt.api == PaymentsV2 && r.Query.Get("expand") != "user,plan" {
				t.Errorf("expand = %q", r.Query.Get("expand"))
			}
			assertPayment(t, got, wantPayment(tt.api, tt.expanded))
			if !got.IsPaid() || got.IsRefunded() || got.IsDisputed() {
				t.Errorf("IsPaid/IsRefunded/IsDisputed = %v/%v/%v", got.IsPaid(), got.IsRefunded(), got.IsDisputed())
			}
			if got.TotalAmount().String() != "$8.99" {
				t.Errorf("TotalAmount = %s", got.TotalAmount())
			}
		})
	}
}

func TestGetPaymentV2ExpandOverride(t *testing.T) {
	c, f := setup(t, replyJSON(fixture(t, "payment_v2.json")))
	if _, err := c.GetPaymentV2(t.Context(), "pay_1", "user", "membership"); err != nil {
		t.Fatal(err)
	}
	if got := only(t, f).Query.Get("expand"); got != "user,membership" {
		t.Errorf("expand = %q", got)
	}
	if _, err := c.GetPaymentVia(t.Context(), "v9", "pay_1"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown API: err = %v", err)
	}
}

func TestPaymentAmountsAreExact(t *testing.T) {
	tests := []struct {
		json string
		want int64
		cur  money.Currency
	}{
		{`{"total":0.29}`, 29, money.USD}, // 28.999… as a float64
		{`{"total":"0.29"}`, 29, money.USD},
		{`{"total":1e2}`, 10000, money.USD},
		{`{"total":19.99,"currency":"EUR"}`, 1999, money.EUR},
		{`{"total":500,"currency":"jpy"}`, 500, money.JPY},
		{`{"total":1.234,"currency":"kwd"}`, 1234, "kwd"},
		{`{"total":4.999}`, 500, money.USD}, // a fee-style fraction rounds half to even
		{`{"total":{"amount":4.99}}`, 0, money.USD},
		{`{"total":null}`, 0, money.USD},
		{`{"final_amount":3,"total":4}`, 300, money.USD},
	}
	for _, tt := range tests {
		p, err := decodePayment([]byte(tt.json), PaymentsV1)
		if err != nil {
			t.Errorf("%s: %v", tt.json, err)
			continue
		}
		if p.Total != tt.want || p.Currency != tt.cur {
			t.Errorf("%s: total = %d %s, want %d %s", tt.json, p.Total, p.Currency, tt.want, tt.cur)
		}
	}
	for _, bad := range []string{`{"total":"abc"}`, `{"currency":"u s d"}`, `{"created_at":"yesterday"}`, `[1]`, `{"total":1e99999}`} {
		if _, err := decodePayment([]byte(bad), PaymentsV1); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

func TestRefundPayment(t *testing.T) {
	refunded := strings.NewReplacer(`"substatus": "succeeded"`, `"substatus": "refunded"`,
		`"refunded_amount": 0`, `"refunded_amount": 8.99`, `"refunded_at": null`, `"refunded_at": "2025-01-02T00:00:00.000Z"`,
		`"refundable": true`, `"refundable": false`).Replace(fixture(t, "payment_v1.json"))
	c, f := setup(t, replyJSON(refunded))
	got, err := c.RefundPayment(t.Context(), "pay_6dWDN0kA5QW2hm", RefundParams{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RefundPayment(t.Context(), "pay_6dWDN0kA5QW2hm", RefundParams{
		Partial: &money.Amount{Minor: 150, Currency: money.USD}, IdempotencyKey: "refund-form-1"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	assertRequest(t, reqs[0], http.MethodPost, "/api/v1/payments/pay_6dWDN0kA5QW2hm/refund")
	assertJSONBody(t, reqs[0].Body, `{}`)
	assertJSONBody(t, reqs[1].Body, `{"partial_amount":1.5}`)
	if k0, k1 := reqs[0].Header.Get("Idempotency-Key"), reqs[1].Header.Get("Idempotency-Key"); k0 != "" || k1 != "refund-form-1" {
		t.Errorf("Idempotency-Key = %q without a key, %q with one", k0, k1)
	}
	want := wantPayment(PaymentsV1, true)
	want.Substatus, want.RefundedAmount, want.Refundable = SubstatusRefunded, 899, false
	want.RefundedAt = time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	assertPayment(t, got, want)
	if !got.IsPaid() || !got.IsRefunded() {
		t.Errorf("a refunded payment stays paid and is refunded")
	}
	if _, err := c.RefundPayment(t.Context(), "pay_1", RefundParams{Partial: &money.Amount{Minor: 0, Currency: money.USD}}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("zero partial refund: err = %v", err)
	}
}

func TestPaymentFieldAliases(t *testing.T) {
	tests := []struct {
		json     string
		checkout string
		meta     string
	}{
		{`{"checkout_configuration_id":"ch_1","metadata":{"k":"v"}}`, "ch_1", "v"},
		{`{"checkout_request_id":"ch_2","membership_metadata":{"k":"m"}}`, "ch_2", "m"},
		{`{"checkout_id":"ch_3","metadata":{"k":"p"},"membership_metadata":{"k":"m"}}`, "ch_3", "p"},
	}
	for _, tt := range tests {
		p, err := decodePayment([]byte(tt.json), PaymentsV2)
		if err != nil {
			t.Fatal(err)
		}
		if p.CheckoutConfigurationID != tt.checkout || p.Metadata["k"] != tt.meta {
			t.Errorf("%s: checkout %q metadata %v", tt.json, p.CheckoutConfigurationID, p.Metadata)
		}
	}
	m, err := decodeMembership([]byte(`{"id":"mem_1","page_id":"biz_1","valid":true,"status":"expired"}`))
	if err != nil || m.CompanyID != "biz_1" || !m.Valid {
		t.Errorf("legacy membership = %+v, %v", m, err)
	}
}
