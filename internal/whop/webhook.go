package whop

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook verification failures. Each is returned wrapped with detail; test
// with errors.Is. Only ErrMalformedEvent happens after the signature held.
var (
	// ErrMissingSignature: no signature header, or a Standard Webhooks
	// delivery without its webhook-id or webhook-timestamp.
	ErrMissingSignature = errors.New("whop: webhook signature missing")
	// ErrInvalidSignature: no v1 signature in the header matches the body.
	ErrInvalidSignature = errors.New("whop: webhook signature invalid")
	// ErrTimestampOutOfRange: signed, but more than the tolerance away from
	// now, in either direction: a replay, or a badly wrong clock.
	ErrTimestampOutOfRange = errors.New("whop: webhook timestamp out of range")
	// ErrMalformedHeader: a signature header that cannot be parsed, such as
	// a non-integer timestamp or a "v1," with nothing after it.
	ErrMalformedHeader = errors.New("whop: webhook signature header malformed")
	// ErrMalformedEvent: the signature held but the body is not a Whop event.
	ErrMalformedEvent = errors.New("whop: webhook event malformed")
)

// DefaultWebhookTolerance is how far a delivery's timestamp may be from now.
const DefaultWebhookTolerance = 300 * time.Second

// WebhookVerifier checks Whop webhook deliveries. It is safe for concurrent
// use and holds no mutable state.
type WebhookVerifier struct {
	key       []byte
	now       func() time.Time
	tolerance time.Duration
}

// WebhookOption configures a WebhookVerifier.
type WebhookOption func(*WebhookVerifier)

// WithWebhookClock sets the clock the timestamp window is measured against.
func WithWebhookClock(now func() time.Time) WebhookOption {
	return func(v *WebhookVerifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithTolerance sets the timestamp window (default 300 s each way).
func WithTolerance(d time.Duration) WebhookOption {
	return func(v *WebhookVerifier) {
		if d > 0 {
			v.tolerance = d
		}
	}
}

// NewWebhookVerifier returns a verifier for secret, exactly as Whop shows it
// ("ws_…"). Its raw bytes are the HMAC key; it is never base64-decoded.
func NewWebhookVerifier(secret string, opts ...WebhookOption) *WebhookVerifier {
	v := &WebhookVerifier{key: []byte(secret), now: time.Now, tolerance: DefaultWebhookTolerance}
	for _, opt := range opts {
		opt(v)
	}
	return v
}

// Verify authenticates a delivery and decodes its envelope. It uses the
// Standard Webhooks scheme when a webhook-signature header is present and the
// legacy x-whop-signature otherwise. body must be the exact bytes received.
// Nothing in the body is looked at until the signature has been checked.
func (v *WebhookVerifier) Verify(h http.Header, body []byte) (*Event, error) {
	d, err := v.Authenticate(h, body)
	if err != nil {
		return nil, err
	}
	return d.Decode(body)
}

// Delivery is an authenticated delivery not yet decoded: enough to tell a
// repeat (Whop delivers at least once) without parsing the body.
type Delivery struct {
	ID     string // as Event.ID
	Scheme Scheme
	Unix   int64 // the signed timestamp
}

// Authenticate checks a delivery's signature and time and returns its id,
// without decoding the body: a receiver can drop a repeat cheaply, then
// Decode the rest. body must be the exact bytes received.
func (v *WebhookVerifier) Authenticate(h http.Header, body []byte) (Delivery, error) {
	if sig := h.Get(HeaderWebhookSignature); sig != "" {
		id, ts := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp)
		if id == "" || ts == "" {
			return Delivery{}, fmt.Errorf("%w: webhook-id and webhook-timestamp are required", ErrMissingSignature)
		}
		unix, err := v.verifyStandard(id, ts, sig, body)
		if err != nil {
			return Delivery{}, err
		}
		return Delivery{ID: id, Scheme: SchemeStandard, Unix: unix}, nil
	}
	if sig := h.Get(HeaderLegacySignature); sig != "" {
		unix, err := v.verifyLegacy(sig, body)
		if err != nil {
			return Delivery{}, err
		}
		return Delivery{ID: legacyID(body), Scheme: SchemeLegacy, Unix: unix}, nil
	}
	return Delivery{}, ErrMissingSignature
}

// Decode decodes the envelope of an authenticated delivery's body (the
// same bytes Authenticate checked). The event's ID is d.ID.
func (d Delivery) Decode(body []byte) (*Event, error) {
	if d.Scheme == SchemeLegacy {
		return decodeLegacyEvent(d.ID, d.Unix, body)
	}
	return decodeStandardEvent(d.ID, d.Unix, body)
}

func (v *WebhookVerifier) verifyStandard(id, ts, header string, body []byte) (int64, error) {
	unix, err := parseUnix(ts)
	if err != nil {
		return 0, err
	}
	want := signStandardKey(v.key, id, ts, body)
	candidates, malformed := 0, 0
	for _, entry := range strings.Fields(header) {
		version, value, ok := strings.Cut(entry, ",")
		if !ok {
			malformed++
			continue
		}
		if version != "v1" {
			continue // other schemes are for other verifiers
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err != nil || len(got) != len(want) {
			malformed++
			continue
		}
		candidates++
		if hmac.Equal(got, want) {
			return unix, v.checkWindow(unix)
		}
	}
	switch {
	case candidates == 0 && malformed > 0:
		return 0, fmt.Errorf("%w: no well-formed v1 signature", ErrMalformedHeader)
	case candidates == 0:
		return 0, fmt.Errorf("%w: no v1 signature", ErrInvalidSignature)
	}
	return 0, ErrInvalidSignature
}

func (v *WebhookVerifier) verifyLegacy(header string, body []byte) (int64, error) {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, fmt.Errorf("%w: %q is not key=value", ErrMalformedHeader, clip(part))
		}
		switch key {
		case "t":
			ts = value
		case "v1":
			sig, err := hex.DecodeString(value)
			if err != nil || len(sig) != 32 {
				return 0, fmt.Errorf("%w: v1 is not a hex SHA-256 MAC", ErrMalformedHeader)
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return 0, fmt.Errorf("%w: need both t= and v1=", ErrMalformedHeader)
	}
	unix, err := parseUnix(ts)
	if err != nil {
		return 0, err
	}
	want := signLegacyKey(v.key, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return unix, v.checkWindow(unix)
		}
	}
	return 0, ErrInvalidSignature
}

// parseUnix accepts only plain decimal digits: "+1", "1.5" or "1e9" are not
// what Whop sends, and accepting them would let one signature have several
// spellings.
func parseUnix(s string) (int64, error) {
	if s == "" || len(s) > 18 || !allDigits(s) {
		return 0, fmt.Errorf("%w: timestamp %q is not an integer", ErrMalformedHeader, clip(s))
	}
	n, _ := strconv.ParseInt(s, 10, 64) // 18 digits always fit
	return n, nil
}

// checkWindow compares in whole seconds, as the header does: exactly
// tolerance away passes, one second more fails.
func (v *WebhookVerifier) checkWindow(unix int64) error {
	diff := v.now().Unix() - unix
	limit := int64(v.tolerance / time.Second)
	if diff > limit {
		return fmt.Errorf("%w: %d s old", ErrTimestampOutOfRange, diff)
	}
	if -diff > limit {
		return fmt.Errorf("%w: %d s in the future", ErrTimestampOutOfRange, -diff)
	}
	return nil
}
