package whop

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Scheme names the signing scheme a delivery used, which also fixes the
// shape of its body.
type Scheme string

// Signing schemes.
const (
	// SchemeStandard is Standard Webhooks with a v1 envelope ("type", "data").
	SchemeStandard Scheme = "standard"
	// SchemeLegacy is x-whop-signature with a v5 envelope ("action", "data").
	SchemeLegacy Scheme = "legacy"
)

// Event types. v1 (Standard Webhooks) names first, then the legacy (v5)
// actions that differ. Unknown types are normal: acknowledge and ignore them.
const (
	EventPaymentCreated                 = "payment.created"
	EventPaymentSucceeded               = "payment.succeeded"
	EventPaymentFailed                  = "payment.failed"
	EventPaymentPending                 = "payment.pending"
	EventRefundCreated                  = "refund.created"
	EventRefundUpdated                  = "refund.updated"
	EventDisputeCreated                 = "dispute.created"
	EventDisputeUpdated                 = "dispute.updated"
	EventDisputeAlertCreated            = "dispute_alert.created"
	EventMembershipActivated            = "membership.activated"
	EventMembershipDeactivated          = "membership.deactivated"
	EventMembershipTrialEndingSoon      = "membership.trial_ending_soon"
	EventMembershipCancelAtPeriodEnd    = "membership.cancel_at_period_end_changed"
	EventMembershipWentValid            = "membership.went_valid"
	EventMembershipWentInvalid          = "membership.went_invalid"
	EventMembershipMetadataUpdated      = "membership.metadata_updated"
	EventAppPaymentSucceeded            = "app_payment.succeeded"
	EventAppPaymentFailed               = "app_payment.failed"
	EventAppPaymentPending              = "app_payment.pending"
	EventAppMembershipWentValid         = "app_membership.went_valid"
	EventAppMembershipWentInvalid       = "app_membership.went_invalid"
	EventAppMembershipCancelAtPeriodEnd = "app_membership.cancel_at_period_end_changed"
)

// Event is a verified webhook delivery.
type Event struct {
	// ID identifies the delivery for deduplication: the webhook-id header
	// ("msg_…"), or for legacy deliveries, which carry none,
	// "legacy_" + the first 32 hex digits of the body's SHA-256. A retried
	// legacy delivery has the same body, so it gets the same ID.
	ID   string
	Type string // v1 "type" or legacy "action"
	// Scheme is how the delivery was signed.
	Scheme     Scheme
	APIVersion string // "v1", "v5", …
	// CompanyID is the company the event concerns, when Whop says: v1
	// "company_id" (or "account_id" on newer endpoints), legacy "company".
	CompanyID string
	// Timestamp is when Whop created the event: the body's timestamp if it
	// has one, else the signed header timestamp.
	Timestamp time.Time
	// CreatedAt is the body's timestamp alone, zero when the body has none
	// (legacy deliveries): the header's is signed per attempt, so a retry
	// carries a later one, and only the body's orders events among
	// themselves.
	CreatedAt time.Time
	// Data is the raw "data" object; the typed decoders read it.
	Data json.RawMessage
}

type wireEvent struct {
	ID         flexString      `json:"id"`
	Type       flexString      `json:"type"`
	Action     flexString      `json:"action"`
	APIVersion flexString      `json:"api_version"`
	Timestamp  flexString      `json:"timestamp"` // parsed leniently: one that does not parse is unknown
	CompanyID  flexString      `json:"company_id"`
	AccountID  flexString      `json:"account_id"`
	Company    link            `json:"company"`
	Data       json.RawMessage `json:"data"`
}

func parseEnvelope(body []byte) (*wireEvent, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrMalformedEvent)
	}
	if w, ok := fastEnvelope(trimmed); ok {
		return w, nil
	}
	var w wireEvent
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	return &w, nil
}

func decodeStandardEvent(id string, unix int64, body []byte) (*Event, error) {
	w, err := parseEnvelope(body)
	if err != nil {
		return nil, err
	}
	if w.Type == "" {
		return nil, fmt.Errorf("%w: no type", ErrMalformedEvent)
	}
	ts, created := time.Unix(unix, 0).UTC(), time.Time{}
	if w.Timestamp != "" {
		if parsed, err := parseFlexTime(string(w.Timestamp)); err == nil {
			ts, created = parsed, parsed
		}
	}
	return &Event{
		ID:         id,
		Type:       string(w.Type),
		Scheme:     SchemeStandard,
		APIVersion: cmp.Or(string(w.APIVersion), "v1"),
		CompanyID:  cmp.Or(string(w.CompanyID), string(w.AccountID), w.Company.ID),
		Timestamp:  ts,
		CreatedAt:  created,
		Data:       w.Data,
	}, nil
}

// legacyID is the stable id of a legacy delivery, which carries none: a
// retried delivery has the same body, so it gets the same id.
func legacyID(body []byte) string {
	sum := sha256.Sum256(body)
	return "legacy_" + hex.EncodeToString(sum[:16])
}

// decodeLegacyEvent takes the delivery's id from Authenticate, which has
// already hashed the body for it.
func decodeLegacyEvent(id string, unix int64, body []byte) (*Event, error) {
	w, err := parseEnvelope(body)
	if err != nil {
		return nil, err
	}
	if w.Action == "" {
		return nil, fmt.Errorf("%w: no action", ErrMalformedEvent)
	}
	return &Event{
		ID:         id,
		Type:       string(w.Action),
		Scheme:     SchemeLegacy,
		APIVersion: cmp.Or(string(w.APIVersion), "v5"),
		CompanyID:  cmp.Or(w.Company.ID, string(w.CompanyID), string(w.AccountID)),
		Timestamp:  time.Unix(unix, 0).UTC(),
		Data:       w.Data,
	}, nil
}

// generation is the API generation whose objects the event's data holds.
func (e *Event) generation() PaymentsAPI {
	if e.Scheme == SchemeLegacy {
		return PaymentsV5
	}
	return PaymentsV1
}

// data returns the data object or ErrMalformedEvent.
func (e *Event) data(kind string) ([]byte, error) {
	d := bytes.TrimSpace(e.Data)
	if len(d) == 0 || d[0] != '{' {
		return nil, fmt.Errorf("%w: %s event %s has no data object", ErrMalformedEvent, kind, e.ID)
	}
	return d, nil
}

// Payment decodes the data of a payment event (payment.* or app_payment.*)
// of either generation.
func (e *Event) Payment() (*Payment, error) {
	d, err := e.data("payment")
	if err != nil {
		return nil, err
	}
	p, err := decodePayment(d, e.generation())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	return p, nil
}

// Membership decodes the data of a membership event of either generation.
func (e *Event) Membership() (*Membership, error) {
	d, err := e.data("membership")
	if err != nil {
		return nil, err
	}
	m, err := decodeMembership(d)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	return m, nil
}
