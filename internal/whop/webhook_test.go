package whop

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testSecret = "ws_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var testNow = time.Unix(1735689600, 0)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func standardHeader(secret, id string, ts time.Time, body []byte) http.Header {
	h := http.Header{}
	SetStandardHeaders(h, secret, id, ts, body)
	return h
}

func TestVerifyProtocolVectors(t *testing.T) {
	t.Run("C standard", func(t *testing.T) {
		body := []byte(`{"id":"msg_test","api_version":"v1","type":"payment.succeeded","timestamp":"2025-01-01T00:00:00.000Z","data":{"id":"pay_test"}}`)
		h := http.Header{}
		h.Set("Webhook-Id", "msg_test")
		h.Set("Webhook-Timestamp", "1735689600")
		h.Set("Webhook-Signature", "v1,Jt5jdK60U6TcN0pHFWcUyJpL3R2YmPbgUYaamugwj6Y=")
		ev, err := NewWebhookVerifier("ws_test_secret", WithWebhookClock(fixedClock(time.Unix(1735689600, 0)))).Verify(h, body)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		want := Event{ID: "msg_test", Type: EventPaymentSucceeded, Scheme: SchemeStandard, APIVersion: "v1",
			Timestamp: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		if ev.ID != want.ID || ev.Type != want.Type || ev.Scheme != want.Scheme || ev.APIVersion != want.APIVersion ||
			!ev.Timestamp.Equal(want.Timestamp) || !ev.CreatedAt.Equal(want.Timestamp) || ev.CompanyID != "" ||
			string(ev.Data) != `{"id":"pay_test"}` {
			t.Fatalf("event = %+v", ev)
		}
	})
	t.Run("D standard", func(t *testing.T) {
		h := http.Header{}
		h.Set(HeaderWebhookID, "msg_test")
		h.Set(HeaderWebhookTimestamp, "1700000000")
		h.Set(HeaderWebhookSignature, "v1,4mOkrcyT0thx3FRkdZ09TZSE8HbAacgf+CwLaebCrDc=")
		ev, err := NewWebhookVerifier("ws_test_secret_for_vector", WithWebhookClock(fixedClock(time.Unix(1700000000, 0)))).
			Verify(h, []byte(`{"type":"payment.succeeded"}`))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		// No timestamp in the body: the header's stands in, but it is the
		// attempt's, so the event's creation stays unknown.
		if ev.Type != EventPaymentSucceeded || !ev.Timestamp.Equal(time.Unix(1700000000, 0)) || !ev.CreatedAt.IsZero() ||
			ev.APIVersion != "v1" {
			t.Fatalf("event = %+v", ev)
		}
	})
	t.Run("E legacy", func(t *testing.T) {
		body := []byte(`{"action":"payment.succeeded","api_version":"v5","data":{"id":"pay_test"}}`)
		h := http.Header{}
		h.Set(HeaderLegacySignature, "t=1735689600,v1=0cb9932ff3b4847ecfcca29f00eb7c6f8648388dc59ced2aa841bc619726561f")
		ev, err := NewWebhookVerifier("ws_test_secret", WithWebhookClock(fixedClock(time.Unix(1735689600, 0)))).Verify(h, body)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if ev.Type != EventPaymentSucceeded || ev.Scheme != SchemeLegacy || ev.APIVersion != "v5" ||
			!ev.Timestamp.Equal(time.Unix(1735689600, 0)) || !ev.CreatedAt.IsZero() || string(ev.Data) != `{"id":"pay_test"}` {
			t.Fatalf("event = %+v", ev)
		}
		sum := sha256.Sum256(body)
		if want := "legacy_" + hex.EncodeToString(sum[:])[:32]; ev.ID != want {
			t.Fatalf("legacy id = %q, want %q", ev.ID, want)
		}
	})
	t.Run("C with base64-decoded key fails", func(t *testing.T) {
		// What a generic Standard Webhooks library does with the library form
		// of the key reproduces the raw key; decoding the raw secret must not.
		body := []byte(`{"type":"payment.succeeded"}`)
		h := standardHeader("ws_test_secret", "msg_test", testNow, body)
		if _, err := NewWebhookVerifier("d3NfdGVzdF9zZWNyZXQ=", WithWebhookClock(fixedClock(testNow))).Verify(h, body); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("verifier keyed with the base64 form: err = %v, want ErrInvalidSignature", err)
		}
	})
}

func TestVerifyStandardMutations(t *testing.T) {
	body := []byte(`{"id":"msg_1","api_version":"v1","type":"payment.succeeded","timestamp":"2025-01-01T00:00:00.000Z","company_id":"biz_1","data":{"id":"pay_1"}}`)
	good := standardHeader(testSecret, "msg_1", testNow, body)
	goodSig := good.Get(HeaderWebhookSignature)
	forged := "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	with := func(mut func(h http.Header)) http.Header {
		h := good.Clone()
		mut(h)
		return h
	}
	resign := func(ts time.Time) http.Header { return standardHeader(testSecret, "msg_1", ts, body) }
	flipped := append([]byte(nil), body...)
	flipped[len(flipped)-3] ^= 1

	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"valid", good, body, nil},
		{"no headers", http.Header{}, body, ErrMissingSignature},
		{"signature missing", with(func(h http.Header) { h.Del(HeaderWebhookSignature) }), body, ErrMissingSignature},
		{"id missing", with(func(h http.Header) { h.Del(HeaderWebhookID) }), body, ErrMissingSignature},
		{"timestamp missing", with(func(h http.Header) { h.Del(HeaderWebhookTimestamp) }), body, ErrMissingSignature},
		{"wrong secret", standardHeader(testSecret+"x", "msg_1", testNow, body), body, ErrInvalidSignature},
		{"body changed by one byte", good, flipped, ErrInvalidSignature},
		{"body with trailing newline", good, append(append([]byte(nil), body...), '\n'), ErrInvalidSignature},
		{"id changed", with(func(h http.Header) { h.Set(HeaderWebhookID, "msg_2") }), body, ErrInvalidSignature},
		{"timestamp changed", with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "1735689601") }), body, ErrInvalidSignature},
		{"forged upstream signature", with(func(h http.Header) { h.Set(HeaderWebhookSignature, forged) }), body, ErrInvalidSignature},
		{"300 s old", resign(testNow.Add(-300 * time.Second)), body, nil},
		{"300 s ahead", resign(testNow.Add(300 * time.Second)), body, nil},
		{"301 s old", resign(testNow.Add(-301 * time.Second)), body, ErrTimestampOutOfRange},
		{"301 s ahead", resign(testNow.Add(301 * time.Second)), body, ErrTimestampOutOfRange},
		{"several signatures, one valid", with(func(h http.Header) { h.Set(HeaderWebhookSignature, forged+" "+goodSig+" "+forged) }), body, nil},
		{"several signatures, none valid", with(func(h http.Header) { h.Set(HeaderWebhookSignature, forged+" "+forged) }), body, ErrInvalidSignature},
		{"unknown version only", with(func(h http.Header) { h.Set(HeaderWebhookSignature, "v2,"+goodSig[3:]) }), body, ErrInvalidSignature},
		{"valid signature under another version", with(func(h http.Header) { h.Set(HeaderWebhookSignature, "v1a,"+goodSig[3:]) }), body, ErrInvalidSignature},
		{"junk entries alongside a valid one", with(func(h http.Header) { h.Set(HeaderWebhookSignature, "v1,junk v2,whatever v1, "+goodSig+" nocomma") }), body, nil},
		{"bare v1,", with(func(h http.Header) { h.Set(HeaderWebhookSignature, "v1,") }), body, ErrMalformedHeader},
		{"truncated signature", with(func(h http.Header) { h.Set(HeaderWebhookSignature, goodSig[:20]) }), body, ErrMalformedHeader},
		{"no comma", with(func(h http.Header) { h.Set(HeaderWebhookSignature, "v1") }), body, ErrMalformedHeader},
		{"timestamp hello", with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "hello") }), body, ErrMalformedHeader},
		{"timestamp with plus", with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "+1735689600") }), body, ErrMalformedHeader},
		{"timestamp fractional", with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "1735689600.0") }), body, ErrMalformedHeader},
		{"timestamp negative", with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "-1") }), body, ErrMalformedHeader},
		{"timestamp huge", with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "99999999999999999999999") }), body, ErrMalformedHeader},
		{"signed non-JSON body", standardHeader(testSecret, "msg_1", testNow, []byte("hello")), []byte("hello"), ErrMalformedEvent},
		{"signed body without type", standardHeader(testSecret, "msg_1", testNow, []byte(`{"data":{}}`)), []byte(`{"data":{}}`), ErrMalformedEvent},
	}
	v := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := v.Verify(tt.header, tt.body)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if ev.ID != "msg_1" || ev.Type != EventPaymentSucceeded || ev.CompanyID != "biz_1" || ev.Scheme != SchemeStandard {
					t.Fatalf("event = %+v", ev)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if ev != nil {
				t.Fatalf("Verify returned an event with an error: %+v", ev)
			}
		})
	}
}

func TestVerifyLegacyMutations(t *testing.T) {
	body := []byte(`{"action":"app_payment.succeeded","api_version":"v5","company":"biz_9","data":{"id":"pay_1","final_amount":4.99,"currency":"usd"}}`)
	sig := SignLegacy(testSecret, testNow, body)
	mac := sig[strings.Index(sig, "v1=")+3:]
	header := func(v string) http.Header {
		h := http.Header{}
		h.Set(HeaderLegacySignature, v)
		return h
	}
	flipped := append([]byte(nil), body...)
	flipped[10] ^= 1
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"valid", header(sig), body, nil},
		{"spaces after comma", header("t=1735689600, v1=" + mac), body, nil},
		{"reordered", header("v1=" + mac + ",t=1735689600"), body, nil},
		{"wrong secret", header(SignLegacy(testSecret+"x", testNow, body)), body, ErrInvalidSignature},
		{"body changed by one byte", header(sig), flipped, ErrInvalidSignature},
		{"timestamp changed", header("t=1735689601,v1=" + mac), body, ErrInvalidSignature},
		{"301 s old", header(SignLegacy(testSecret, testNow.Add(-301*time.Second), body)), body, ErrTimestampOutOfRange},
		{"301 s ahead", header(SignLegacy(testSecret, testNow.Add(301*time.Second), body)), body, ErrTimestampOutOfRange},
		{"300 s old", header(SignLegacy(testSecret, testNow.Add(-300*time.Second), body)), body, nil},
		{"timestamp hello", header("t=hello,v1=" + mac), body, ErrMalformedHeader},
		{"no timestamp", header("v1=" + mac), body, ErrMalformedHeader},
		{"no signature", header("t=1735689600"), body, ErrMalformedHeader},
		{"bare v1=", header("t=1735689600,v1="), body, ErrMalformedHeader},
		{"base64 instead of hex", header("t=1735689600,v1=" + base64.StdEncoding.EncodeToString([]byte(mac[:32]))), body, ErrMalformedHeader},
		{"junk", header("garbage"), body, ErrMalformedHeader},
		{"signed body without action", header(SignLegacy(testSecret, testNow, []byte(`{"data":{}}`))), []byte(`{"data":{}}`), ErrMalformedEvent},
	}
	v := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := v.Verify(tt.header, tt.body)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if ev.Type != EventAppPaymentSucceeded || ev.Scheme != SchemeLegacy || ev.CompanyID != "biz_9" ||
					ev.APIVersion != "v5" || !strings.HasPrefix(ev.ID, "legacy_") || len(ev.ID) != 39 {
					t.Fatalf("event = %+v", ev)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if ev != nil {
				t.Fatalf("Verify returned an event with an error: %+v", ev)
			}
		})
	}
}

func TestVerifyPrefersStandardWhenBothPresent(t *testing.T) {
	body := []byte(`{"type":"payment.succeeded","data":{}}`)
	h := standardHeader(testSecret, "msg_1", testNow, body)
	h.Set(HeaderLegacySignature, "t=1,v1=00") // ignored: the Standard header decides
	if _, err := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow))).Verify(h, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestLegacyIDIsStablePerBody(t *testing.T) {
	v := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow)))
	verify := func(body string, ts time.Time) string {
		t.Helper()
		h := http.Header{}
		SetLegacyHeaders(h, testSecret, ts, []byte(body))
		ev, err := v.Verify(h, []byte(body))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return ev.ID
	}
	a := verify(`{"action":"payment.succeeded","data":{"id":"pay_1"}}`, testNow)
	again := verify(`{"action":"payment.succeeded","data":{"id":"pay_1"}}`, testNow.Add(-10*time.Second)) // a retry
	b := verify(`{"action":"payment.succeeded","data":{"id":"pay_2"}}`, testNow)
	if a != again {
		t.Errorf("retried delivery got a new id: %s vs %s", a, again)
	}
	if a == b {
		t.Errorf("different bodies share id %s", a)
	}
}

func TestWithTolerance(t *testing.T) {
	body := []byte(`{"type":"x"}`)
	h := standardHeader(testSecret, "msg_1", testNow.Add(-20*time.Second), body)
	v := NewWebhookVerifier(testSecret, WithWebhookClock(fixedClock(testNow)), WithTolerance(10*time.Second))
	if _, err := v.Verify(h, body); !errors.Is(err, ErrTimestampOutOfRange) {
		t.Fatalf("err = %v, want ErrTimestampOutOfRange", err)
	}
}

// TestAuthenticateThenDecodeIsVerify: the two-step path a receiver uses to
// drop repeats cheaply gives exactly what Verify gives, in both schemes.
func TestAuthenticateThenDecodeIsVerify(t *testing.T) {
	now := time.Unix(1735689600, 0)
	v := NewWebhookVerifier("ws_test_secret", WithWebhookClock(func() time.Time { return now }))
	std := []byte(`{"id":"msg_1","api_version":"v1","type":"payment.succeeded","timestamp":"2025-01-01T00:00:00.000Z","data":{"id":"pay_1"},"company_id":"biz_1"}`)
	legacy := []byte(`{"action":"payment.succeeded","api_version":"v5","data":{"id":"pay_1"},"company":"biz_1"}`)
	hs, hl := http.Header{}, http.Header{}
	SetStandardHeaders(hs, "ws_test_secret", "msg_1", now, std)
	SetLegacyHeaders(hl, "ws_test_secret", now, legacy)
	for _, c := range []struct {
		name   string
		h      http.Header
		body   []byte
		scheme Scheme
	}{{"standard", hs, std, SchemeStandard}, {"legacy", hl, legacy, SchemeLegacy}} {
		t.Run(c.name, func(t *testing.T) {
			want, err := v.Verify(c.h, c.body)
			if err != nil {
				t.Fatal(err)
			}
			d, err := v.Authenticate(c.h, c.body)
			if err != nil || d.ID != want.ID || d.Scheme != c.scheme || d.Unix != now.Unix() {
				t.Fatalf("Authenticate = %+v, %v; want id %s", d, err, want.ID)
			}
			got, err := d.Decode(c.body)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("Decode = %+v, %v\nwant %+v", got, err, want)
			}
			tampered := append([]byte{}, c.body...)
			tampered[len(tampered)-2] ^= 1
			if _, err := v.Authenticate(c.h, tampered); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("Authenticate a changed body: %v", err)
			}
		})
	}
}
