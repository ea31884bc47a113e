package whop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// Webhook headers. Go canonicalises header names, so these work with
// http.Header.Get and Set whatever case Whop sends.
const (
	// HeaderWebhookID carries the Standard Webhooks message id ("msg_…").
	HeaderWebhookID = "webhook-id"
	// HeaderWebhookTimestamp carries the Standard Webhooks send time in unix seconds.
	HeaderWebhookTimestamp = "webhook-timestamp"
	// HeaderWebhookSignature carries space-separated "v1,<base64>" signatures.
	HeaderWebhookSignature = "webhook-signature"
	// HeaderLegacySignature carries the legacy (v5) "t=<unix>,v1=<hex>" signature.
	HeaderLegacySignature = "x-whop-signature"
)

// SignStandard returns the Standard Webhooks signature "v1,<base64>" of a
// delivery, for the sandbox and for tests. The key is the raw bytes of secret
// exactly as Whop shows it, prefix included; unlike generic Standard Webhooks
// libraries, Whop never base64-decodes it.
func SignStandard(secret, msgID string, ts time.Time, body []byte) string {
	mac := signStandardKey([]byte(secret), msgID, strconv.FormatInt(ts.Unix(), 10), body)
	return "v1," + base64.StdEncoding.EncodeToString(mac)
}

// SignLegacy returns the legacy signature header value "t=<unix>,v1=<hex>" of
// a delivery, keyed with the raw bytes of secret like SignStandard.
func SignLegacy(secret string, ts time.Time, body []byte) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(signLegacyKey([]byte(secret), t, body))
}

// SetStandardHeaders sets the three Standard Webhooks headers on h, so a
// sender (the sandbox) produces exactly what Whop's dashboard endpoints send.
func SetStandardHeaders(h http.Header, secret, msgID string, ts time.Time, body []byte) {
	h.Set(HeaderWebhookID, msgID)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderWebhookSignature, SignStandard(secret, msgID, ts, body))
}

// SetLegacyHeaders sets the legacy signature header on h.
func SetLegacyHeaders(h http.Header, secret string, ts time.Time, body []byte) {
	h.Set(HeaderLegacySignature, SignLegacy(secret, ts, body))
}

// signStandardKey is the Standard Webhooks MAC over "<id>.<timestamp>.<body>".
// It takes key bytes rather than a secret so tests can also run the upstream
// vectors, whose keys are base64-decoded by the generic rule. The timestamp is
// the decimal string as sent, because that string is what gets signed.
func signStandardKey(key []byte, msgID, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// signLegacyKey is the legacy MAC over "<t>.<body>".
func signLegacyKey(key []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
