package whop

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// upstreamKey applies the generic Standard Webhooks key rule (strip "whsec_",
// base64-decode) that only the upstream vectors A and B use.
func upstreamKey(t *testing.T, secret string) []byte {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("decode upstream key: %v", err)
	}
	return key
}

func TestProtocolVectorsUpstream(t *testing.T) {
	tests := []struct {
		name, secret, id, ts, body, want string
	}{
		{"A", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
			`{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"B", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553",
			`{"email":"test@example.com","username":"test_user"}`, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mac := signStandardKey(upstreamKey(t, tt.secret), tt.id, tt.ts, []byte(tt.body))
			if got := "v1," + base64.StdEncoding.EncodeToString(mac); got != tt.want {
				t.Fatalf("signature = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestProtocolVectorsRawKey(t *testing.T) {
	tests := []struct {
		name, secret, id string
		ts               int64
		body, want       string
	}{
		{"C", "ws_test_secret", "msg_test", 1735689600,
			`{"id":"msg_test","api_version":"v1","type":"payment.succeeded","timestamp":"2025-01-01T00:00:00.000Z","data":{"id":"pay_test"}}`,
			"v1,Jt5jdK60U6TcN0pHFWcUyJpL3R2YmPbgUYaamugwj6Y="},
		{"D", "ws_test_secret_for_vector", "msg_test", 1700000000,
			`{"type":"payment.succeeded"}`, "v1,4mOkrcyT0thx3FRkdZ09TZSE8HbAacgf+CwLaebCrDc="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SignStandard(tt.secret, tt.id, time.Unix(tt.ts, 0), []byte(tt.body)); got != tt.want {
				t.Fatalf("SignStandard = %s, want %s", got, tt.want)
			}
			// The generic rule would base64-decode the secret; a Whop secret is
			// not base64, so that rule cannot even produce a key for it.
			if _, err := base64.StdEncoding.DecodeString(tt.secret); err == nil {
				t.Fatalf("%q decoded as base64; the vector would not pin the raw-key rule", tt.secret)
			}
		})
	}
	t.Run("C library form", func(t *testing.T) {
		// Generic libraries are handed base64(secret) and decode it back,
		// which is why Whop's samples pass btoa(secret).
		key, err := base64.StdEncoding.DecodeString("d3NfdGVzdF9zZWNyZXQ=")
		if err != nil || string(key) != "ws_test_secret" {
			t.Fatalf("library form decodes to %q, %v", key, err)
		}
	})
	t.Run("E", func(t *testing.T) {
		body := `{"action":"payment.succeeded","api_version":"v5","data":{"id":"pay_test"}}`
		want := "t=1735689600,v1=0cb9932ff3b4847ecfcca29f00eb7c6f8648388dc59ced2aa841bc619726561f"
		if got := SignLegacy("ws_test_secret", time.Unix(1735689600, 0), []byte(body)); got != want {
			t.Fatalf("SignLegacy = %s, want %s", got, want)
		}
		mac := signLegacyKey([]byte("ws_test_secret"), "1735689600", []byte(body))
		if hex.EncodeToString(mac) != want[len("t=1735689600,v1="):] {
			t.Fatal("signLegacyKey disagrees with SignLegacy")
		}
	})
}

func TestSetHeaders(t *testing.T) {
	body := []byte(`{"type":"payment.succeeded"}`)
	ts := time.Unix(1700000000, 0)
	h := http.Header{}
	SetStandardHeaders(h, "ws_test_secret_for_vector", "msg_test", ts, body)
	if got := h.Get(HeaderWebhookID); got != "msg_test" {
		t.Errorf("webhook-id = %q", got)
	}
	if got := h.Get(HeaderWebhookTimestamp); got != "1700000000" {
		t.Errorf("webhook-timestamp = %q", got)
	}
	if got := h.Get(HeaderWebhookSignature); got != "v1,4mOkrcyT0thx3FRkdZ09TZSE8HbAacgf+CwLaebCrDc=" {
		t.Errorf("webhook-signature = %q", got)
	}
	SetLegacyHeaders(h, "ws_test_secret", ts, body)
	if got := h.Get(HeaderLegacySignature); got != SignLegacy("ws_test_secret", ts, body) {
		t.Errorf("x-whop-signature = %q", got)
	}
}
