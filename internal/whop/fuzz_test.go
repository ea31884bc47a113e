package whop

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func addFixtureSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzVerifyWebhook checks three properties for arbitrary bodies, ids,
// times and header text: Verify never panics; what SignStandard or
// SignLegacy signs always verifies (the body may still be refused as an
// event, but never the signature); and any one-byte change to the body fails.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(`{"type":"payment.succeeded","data":{"id":"pay_1"}}`), "msg_1", int64(0), uint(5), false, "v1,abc", "t=1,v1=00")
	f.Add([]byte(`{"action":"payment.succeeded","api_version":"v5","data":{}}`), "msg_2", int64(-300), uint(0), true, "v1, v2,", "t=,v1=")
	f.Add([]byte{}, "x", int64(300), uint(1), false, "", "")
	v := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow)))
	f.Fuzz(func(t *testing.T, body []byte, id string, offset int64, at uint, legacy bool, rawSig, rawLegacy string) {
		// Arbitrary header values must be refused cleanly.
		h := http.Header{}
		h.Set(HeaderWebhookID, id)
		h.Set(HeaderWebhookTimestamp, strconv.FormatInt(testNow.Unix()+offset, 10))
		h.Set(HeaderWebhookSignature, rawSig)
		_, _ = v.Verify(h, body)
		h.Del(HeaderWebhookSignature)
		h.Set(HeaderLegacySignature, rawLegacy)
		_, _ = v.Verify(h, body)

		if id == "" {
			return // Standard Webhooks requires an id
		}
		ts := testNow.Add(time.Duration(offset%300) * time.Second)
		signed := http.Header{}
		if legacy {
			SetLegacyHeaders(signed, testSecret, ts, body)
		} else {
			SetStandardHeaders(signed, testSecret, id, ts, body)
		}
		ev, err := v.Verify(signed, body)
		if err != nil && !errors.Is(err, ErrMalformedEvent) {
			t.Fatalf("signed delivery refused: %v", err)
		}
		if err == nil {
			_, _ = ev.Payment() // decoding a verified body must not panic either
			_, _ = ev.Refund()
			_, _ = ev.Membership()
		}
		if len(body) == 0 {
			return
		}
		mutated := append([]byte(nil), body...)
		mutated[at%uint(len(mutated))] ^= 0x01
		if _, err := v.Verify(signed, mutated); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("one-byte change accepted: err = %v", err)
		}
	})
}

// FuzzDecodePayment feeds arbitrary JSON to the payment decoder of every
// generation: it must never panic, and a success must be self-consistent.
func FuzzDecodePayment(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte(`{"total":1e99999,"created_at":"99999999999999999999"}`))
	f.Add([]byte(`{"user":[],"metadata":{"a":{"b":[1,2]}},"refundable":"true"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, api := range []PaymentsAPI{PaymentsV1, PaymentsV2, PaymentsV5} {
			p, err := decodePayment(data, api)
			if err != nil {
				continue
			}
			if p == nil || p.API != api || p.Currency == "" {
				t.Fatalf("decoded %+v without error", p)
			}
			_ = p.TotalAmount().String()
		}
		_, _ = decodeMembership(data)
	})
}

// FuzzDecodeEvent signs arbitrary bodies, so every byte reaches the envelope
// and data decoders: none of them may panic.
func FuzzDecodeEvent(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte(`{"type":"refund.created","data":{"amount":"1.5","payment":"pay_1"}}`))
	f.Add([]byte(`{"action":"dispute.created","company":{"id":"biz_1"},"data":{"payment":{"id":"p","currency":"jpy"}}}`))
	v := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow)))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, legacy := range []bool{false, true} {
			h := http.Header{}
			if legacy {
				SetLegacyHeaders(h, testSecret, testNow, body)
			} else {
				SetStandardHeaders(h, testSecret, "msg_f", testNow, body)
			}
			ev, err := v.Verify(h, body)
			if err != nil {
				if !errors.Is(err, ErrMalformedEvent) {
					t.Fatalf("signed body refused with %v", err)
				}
				continue
			}
			_, _ = ev.Payment()
			_, _ = ev.Refund()
			_, _ = ev.Dispute()
			_, _ = ev.Membership()
		}
	})
}

// FuzzVerifyToken checks the token verifier refuses arbitrary input cleanly.
func FuzzVerifyToken(f *testing.F) {
	e := newTokenEnv(f)
	v := e.verifier(f, WithStaticKey(pemOf(f, &e.key1.PublicKey)))
	f.Add(sign(f, e.key1, "k1", e.claims()))
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := v.Verify(t.Context(), raw)
		if err == nil && (tok.UserID == "" || tok.AppID != testAppID) {
			t.Fatalf("accepted %q as %+v", raw, tok)
		}
	})
}
