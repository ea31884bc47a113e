package whop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Saved payment methods and off-session charges.
//
// A checkout configuration in setup mode ({company_id, mode: "setup"})
// saves the buyer's payment method without charging. Completing it makes a
// setup intent ("sint_…", GET /setup_intents/{id}, webhook
// setup_intent.succeeded) naming the member ("mber_…", the user as a
// customer of that company) and the saved payment method ("payt_…"). The
// member's methods are listed with GET /payment_methods?member_id=…, and
// POST /payments charges one off-session: {company_id, member_id,
// payment_method_id, plan (inline) or plan_id, metadata}. That answers with
// the payment at once; Whop processes it in the background and sends
// payment.succeeded or payment.failed as for any payment.

// Prefixes of the ids saved methods use.
const (
	PrefixMember        = "mber_"
	PrefixPaymentMethod = "payt_"
	PrefixSetupIntent   = "sint_"
)

// SetupCheckoutParams creates a setup-mode checkout configuration.
type SetupCheckoutParams struct {
	CompanyID      string
	Metadata       map[string]string
	RedirectURL    string
	IdempotencyKey string
}

type wireSetupCheckout struct {
	CompanyID   string            `json:"company_id,omitempty"`
	AccountID   string            `json:"account_id,omitempty"`
	Mode        string            `json:"mode"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	RedirectURL string            `json:"redirect_url,omitempty"`
}

// CreateSetupCheckout creates a checkout configuration that saves a payment
// method without charging. Its ID goes to inAppPurchase as "id".
func (c *Client) CreateSetupCheckout(ctx context.Context, p SetupCheckoutParams) (*CheckoutConfiguration, error) {
	if p.CompanyID == "" {
		return nil, fmt.Errorf("%w: a setup checkout needs CompanyID", ErrInvalidArgument)
	}
	body := wireSetupCheckout{Mode: "setup", Metadata: p.Metadata, RedirectURL: p.RedirectURL}
	if c.accountModel() {
		body.AccountID = p.CompanyID
	} else {
		body.CompanyID = p.CompanyID
	}
	var w wireCheckoutConfiguration
	req := request{method: http.MethodPost, url: c.v1("/checkout_configurations"), body: body, idempotencyKey: p.IdempotencyKey}
	if err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	return &CheckoutConfiguration{ID: string(w.ID), CompanyID: p.CompanyID, PurchaseURL: string(w.PurchaseURL), Metadata: w.Metadata}, nil
}

// Card is what Whop shows of a saved card.
type Card struct {
	Brand string
	Last4 string
}

// PaymentMethod is a member's saved payment method.
type PaymentMethod struct {
	ID        string // "payt_…"
	Type      string // payment_method_type: "card", …
	Card      Card
	CreatedAt time.Time
}

type wireCard struct {
	Brand flexString `json:"brand"`
	Last4 flexString `json:"last4"`
}

type wirePaymentMethod struct {
	ID        flexString `json:"id"`
	Type      flexString `json:"payment_method_type"`
	Card      *wireCard  `json:"card"`
	CreatedAt *time.Time `json:"created_at"`
}

func (w *wirePaymentMethod) normalize() PaymentMethod {
	pm := PaymentMethod{ID: string(w.ID), Type: string(w.Type)}
	if w.Card != nil {
		pm.Card = Card{Brand: string(w.Card.Brand), Last4: string(w.Card.Last4)}
	}
	if w.CreatedAt != nil {
		pm.CreatedAt = *w.CreatedAt
	}
	return pm
}

// SetupIntent is a completed (or failed) setup-mode checkout.
type SetupIntent struct {
	ID                      string // "sint_…"
	Status                  string // "succeeded", "requires_action", "canceled", …
	CompanyID               string
	CheckoutConfigurationID string
	MemberID                string
	UserID                  string
	PaymentMethod           PaymentMethod
	Metadata                map[string]string
	ErrorMessage            string
}

type wireSetupIntent struct {
	ID                    flexString         `json:"id"`
	Status                flexString         `json:"status"`
	Company               link               `json:"company"`
	CheckoutConfiguration link               `json:"checkout_configuration"`
	Member                *wireMember        `json:"member"`
	PaymentMethod         *wirePaymentMethod `json:"payment_method"`
	Metadata              metadata           `json:"metadata"`
	ErrorMessage          flexString         `json:"error_message"`
}

type wireMember struct {
	ID   flexString `json:"id"`
	User link       `json:"user"`
}

// GetSetupIntent retrieves a setup intent.
func (c *Client) GetSetupIntent(ctx context.Context, id string) (*SetupIntent, error) {
	seg, ok := pathID(id)
	if !ok {
		return nil, fmt.Errorf("%w: setup intent id %q", ErrInvalidArgument, id)
	}
	var w wireSetupIntent
	if err := c.do(ctx, request{method: http.MethodGet, url: c.v1("/setup_intents/" + seg)}, &w); err != nil {
		return nil, err
	}
	return w.normalize(), nil
}

func (w *wireSetupIntent) normalize() *SetupIntent {
	si := &SetupIntent{ID: string(w.ID), Status: string(w.Status), CompanyID: w.Company.ID,
		CheckoutConfigurationID: w.CheckoutConfiguration.ID, Metadata: w.Metadata, ErrorMessage: string(w.ErrorMessage)}
	if w.Member != nil {
		si.MemberID, si.UserID = string(w.Member.ID), w.Member.User.ID
	}
	if w.PaymentMethod != nil {
		si.PaymentMethod = w.PaymentMethod.normalize()
	}
	return si
}

// EventSetupIntentSucceeded is sent when a setup-mode checkout saved a
// payment method.
const EventSetupIntentSucceeded = "setup_intent.succeeded"

// SetupIntent decodes the data of a setup_intent.* event.
func (e *Event) SetupIntent() (*SetupIntent, error) {
	d, err := e.data("setup intent")
	if err != nil {
		return nil, err
	}
	var w wireSetupIntent
	if err := json.Unmarshal(d, &w); err != nil {
		return nil, fmt.Errorf("%w: setup intent: %w", ErrMalformedEvent, err)
	}
	return w.normalize(), nil
}

// ListPaymentMethods lists a member's saved payment methods (first page,
// up to 100: a member has a handful).
func (c *Client) ListPaymentMethods(ctx context.Context, memberID string) ([]PaymentMethod, error) {
	if !ValidID(memberID, PrefixMember) {
		return nil, fmt.Errorf("%w: member id %q", ErrInvalidArgument, memberID)
	}
	var w struct {
		Data []wirePaymentMethod `json:"data"`
	}
	q := url.Values{"member_id": {memberID}, "first": {"100"}}
	if err := c.do(ctx, request{method: http.MethodGet, url: c.v1("/payment_methods"), query: q}, &w); err != nil {
		return nil, err
	}
	out := make([]PaymentMethod, 0, len(w.Data))
	for i := range w.Data {
		out = append(out, w.Data[i].normalize())
	}
	return out, nil
}

// OffSessionPaymentParams charges a member's saved method off-session.
type OffSessionPaymentParams struct {
	CompanyID       string
	MemberID        string
	PaymentMethodID string
	// Plan is an inline one-time plan (its Currency and InitialPrice).
	Plan     InlinePlan
	Metadata map[string]string
	// IdempotencyKey is required: a charge must be safe to retry.
	IdempotencyKey string
}

type wireOffSessionPayment struct {
	CompanyID       string            `json:"company_id"`
	MemberID        string            `json:"member_id"`
	PaymentMethodID string            `json:"payment_method_id"`
	Plan            *wireInlinePlan   `json:"plan"`
	Metadata        map[string]string `json:"metadata,omitempty"`
}

// CreatePayment charges a saved payment method off-session (POST
// /payments). The answer is the payment as it stands: paid, failed, or
// still pending, to be settled by its webhook.
func (c *Client) CreatePayment(ctx context.Context, p OffSessionPaymentParams) (*Payment, error) {
	switch {
	case p.IdempotencyKey == "":
		return nil, fmt.Errorf("%w: an off-session payment needs an idempotency key", ErrInvalidArgument)
	case p.MemberID == "" || p.PaymentMethodID == "" || p.CompanyID == "":
		return nil, fmt.Errorf("%w: an off-session payment needs a company, a member and a payment method", ErrInvalidArgument)
	}
	plan, err := p.Plan.wire(p.CompanyID, c.accountModel())
	if err != nil {
		return nil, err
	}
	body := wireOffSessionPayment{CompanyID: p.CompanyID, MemberID: p.MemberID, PaymentMethodID: p.PaymentMethodID,
		Plan: plan, Metadata: p.Metadata}
	var w wirePayment
	req := request{method: http.MethodPost, url: c.v1("/payments"), body: body, idempotencyKey: p.IdempotencyKey}
	if err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	return w.normalize(PaymentsV1)
}
