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
