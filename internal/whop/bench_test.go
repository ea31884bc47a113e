package whop

import (
	"net/http"
	"testing"
)

func BenchmarkVerifyWebhookStandard(b *testing.B) {
	body := []byte(fixture(b, "payment_v1.json"))
	body = []byte(`{"type":"payment.succeeded","data":` + string(body) + `}`)
	h := http.Header{}
	SetStandardHeaders(h, testSecret, "msg_1", testNow, body)
	v := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow)))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyWebhookLegacy(b *testing.B) {
	body := []byte(`{"action":"payment.succeeded","api_version":"v5","data":` + fixture(b, "payment_v5.json") + `}`)
	h := http.Header{}
	SetLegacyHeaders(h, testSecret, testNow, body)
	v := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow)))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyTokenCold measures a first view: full ES256 verification
// (the cache is off so every iteration does the crypto).
func BenchmarkVerifyTokenCold(b *testing.B) {
	e := newTokenEnv(b)
	v := e.verifier(b, WithTokenCacheSize(0))
	tok := sign(b, e.key1, "k1", e.claims())
	if _, err := v.Verify(b.Context(), tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyTokenCached measures a repeat view of the same token.
func BenchmarkVerifyTokenCached(b *testing.B) {
	e := newTokenEnv(b)
	v := e.verifier(b)
	tok := sign(b, e.key1, "k1", e.claims())
	if _, err := v.Verify(b.Context(), tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
	if s := v.Stats(); s.Verifications != 1 {
		b.Fatalf("cached benchmark did %d verifications", s.Verifications)
	}
}

func BenchmarkDecodePaymentV1(b *testing.B) {
	data := []byte(fixture(b, "payment_v1.json"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodePayment(data, PaymentsV1); err != nil {
			b.Fatal(err)
		}
	}
}

// benchWebhookBody is the body cmd/bench's ingest path sends (its
// pendingPurchases): a v1 payment.succeeded as Whop writes it.
const benchWebhookBody = `{"id":"msg_b1x0","api_version":"v1","type":"payment.succeeded",` +
	`"timestamp":"2026-05-01T10:20:30.123456789Z","company_id":"biz_owner1",` +
	`"data":{"id":"pay_b1x0","status":"paid","substatus":"succeeded","currency":"usd","subtotal":4.99,"total":4.99,` +
	`"usd_total":4.99,"amount_after_fees":4.54,"refunded_amount":0,"user":{"id":"user_b1"},"company":{"id":"biz_owner1"},` +
	`"checkout_configuration_id":"ch_b1x0","metadata":{"creditkit_purchase_id":"pur_b1x0"},` +
	`"billing_reason":"one_time","created_at":"2026-05-01T10:20:30.123456789Z","paid_at":"2026-05-01T10:20:30.123456789Z"}}`

// BenchmarkWebhookDecode is what the webhook handler spends decoding a
// delivery once it is authenticated: billing's Deliver calls Delivery.Decode,
// then eventPayment calls Event.Payment.
func BenchmarkWebhookDecode(b *testing.B) {
	body := []byte(benchWebhookBody)
	del := Delivery{ID: "msg_b1x0", Scheme: SchemeStandard, Unix: testNow.Unix()}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := del.Decode(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ev.Payment(); err != nil {
			b.Fatal(err)
		}
	}
}
