package whop

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/creditkit/creditkit/internal/money"
)

// Plan types for an inline plan.
const (
	PlanOneTime = "one_time"
	PlanRenewal = "renewal"
)

// InlinePlan is a plan created together with a checkout configuration: how
// an app charges a user an amount it sets itself. Prices are minor units.
type InlinePlan struct {
	Currency      money.Currency
	InitialPrice  int64
	PlanType      string // PlanOneTime or PlanRenewal; empty means one-time
	RenewalPrice  int64  // renewal plans only
	BillingPeriod int    // days between renewals; renewal plans only
}

// CheckoutConfigurationParams creates a checkout configuration, either with
// an inline plan (charging a user) or for an existing plan (subscriptions).
// Exactly one of Plan and PlanID must be set.
type CheckoutConfigurationParams struct {
	// CompanyID ("biz_…") owns the inline plan; required with Plan.
	CompanyID   string
	Plan        *InlinePlan
	PlanID      string
	Metadata    map[string]string // copied onto the resulting payment and membership
	RedirectURL string
	// IdempotencyKey, when set, is sent as Idempotency-Key and makes the
	// call safe to retry.
	IdempotencyKey string
}

// CheckoutConfiguration is what the iframe's inAppPurchase takes: its ID as
// "id" and PlanID as "planId".
type CheckoutConfiguration struct {
	ID          string // "ch_…"
	PlanID      string
	CompanyID   string
	PurchaseURL string
	Metadata    map[string]string
}

// wireInlinePlan names the plan's owner the way the pinned API version
// does: account_id from 2026-06-09 on (plans moved to the Account model),
// company_id before it and when no version is pinned.
type wireInlinePlan struct {
	CompanyID     string      `json:"company_id,omitempty"`
	AccountID     string      `json:"account_id,omitempty"`
	Currency      string      `json:"currency"`
	InitialPrice  json.Number `json:"initial_price"`
	PlanType      string      `json:"plan_type"`
	RenewalPrice  json.Number `json:"renewal_price,omitempty"`
	BillingPeriod int         `json:"billing_period,omitempty"`
}

type wireCheckoutRequest struct {
	Plan        *wireInlinePlan   `json:"plan,omitempty"`
	PlanID      string            `json:"plan_id,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	RedirectURL string            `json:"redirect_url,omitempty"`
}

type wireCheckoutConfiguration struct {
	ID          flexString `json:"id"`
	Plan        link       `json:"plan"`
	PlanID      flexString `json:"plan_id"`
	CompanyID   flexString `json:"company_id"`
	AccountID   flexString `json:"account_id"`
	PurchaseURL flexString `json:"purchase_url"`
	Metadata    metadata   `json:"metadata"`
}

// CreateCheckoutConfiguration creates a checkout configuration. Pass the
// result's ID and PlanID to the iframe SDK's inAppPurchase.
func (c *Client) CreateCheckoutConfiguration(ctx context.Context, p CheckoutConfigurationParams) (*CheckoutConfiguration, error) {
	body := wireCheckoutRequest{PlanID: p.PlanID, Metadata: p.Metadata, RedirectURL: p.RedirectURL}
	switch {
	case (p.Plan == nil) == (p.PlanID == ""):
		return nil, fmt.Errorf("%w: checkout configuration needs exactly one of Plan and PlanID", ErrInvalidArgument)
	case p.Plan != nil:
		plan, err := p.Plan.wire(p.CompanyID, c.accountModel())
		if err != nil {
			return nil, err
		}
		body.Plan = plan
	}
	var w wireCheckoutConfiguration
	req := request{method: http.MethodPost, url: c.v1("/checkout_configurations"), body: body, idempotencyKey: p.IdempotencyKey}
	if err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	return &CheckoutConfiguration{
		ID:          string(w.ID),
		PlanID:      cmp.Or(w.Plan.ID, string(w.PlanID)),
		CompanyID:   cmp.Or(string(w.CompanyID), string(w.AccountID)),
		PurchaseURL: string(w.PurchaseURL),
		Metadata:    w.Metadata,
	}, nil
}

func (pl *InlinePlan) wire(companyID string, accountModel bool) (*wireInlinePlan, error) {
	if companyID == "" {
		return nil, fmt.Errorf("%w: an inline plan needs CompanyID", ErrInvalidArgument)
	}
	if pl.Currency == "" {
		return nil, fmt.Errorf("%w: an inline plan needs a currency", ErrInvalidArgument)
	}
	if pl.InitialPrice < 0 || pl.RenewalPrice < 0 {
		return nil, fmt.Errorf("%w: negative plan price", ErrInvalidArgument)
	}
	kind := pl.PlanType
	if kind == "" {
		kind = PlanOneTime
	}
	w := &wireInlinePlan{
		Currency:     string(pl.Currency),
		InitialPrice: json.Number(money.FormatMajor(pl.InitialPrice, pl.Currency)),
		PlanType:     kind,
	}
	if accountModel {
		w.AccountID = companyID
	} else {
		w.CompanyID = companyID
	}
	if kind == PlanRenewal {
		w.RenewalPrice = json.Number(money.FormatMajor(pl.RenewalPrice, pl.Currency))
		w.BillingPeriod = pl.BillingPeriod
	}
	return w, nil
}
