package whopsim

import (
	"encoding/json"
	"time"
)

// CheckoutRequest creates a checkout configuration, as
// POST /api/v1/checkout_configurations takes it: an inline plan (with
// company_id, or account_id as the 0.0.42 SDK sends), or a plan_id.
type CheckoutRequest struct {
	PlanID      string         `json:"plan_id"`
	Plan        *InlinePlan    `json:"plan"`
	Metadata    map[string]any `json:"metadata"`
	RedirectURL string         `json:"redirect_url"`
	Affiliate   string         `json:"affiliate_code"`
	Mode        string         `json:"mode"`
	// CompanyID (or AccountID, as newer clients name it) owns a setup-mode
	// configuration, which has no plan to say so.
	CompanyID string `json:"company_id"`
	AccountID string `json:"account_id"`
}

// InlinePlan is the plan a checkout configuration creates on the fly. Prices
// are Whop's major-unit JSON numbers.
type InlinePlan struct {
	CompanyID     string      `json:"company_id"`
	AccountID     string      `json:"account_id"`
	ProductID     string      `json:"product_id"`
	Currency      string      `json:"currency"`
	InitialPrice  json.Number `json:"initial_price"`
	RenewalPrice  json.Number `json:"renewal_price"`
	PlanType      string      `json:"plan_type"`
	BillingPeriod int         `json:"billing_period"`
	Title         string      `json:"title"`

	// field names the company in messages: plan.company_id, or
	// plan.account_id under the versions that renamed it.
	field string
}

// createCheckout validates req and stores the configuration (and its
// inline plan). Call it inside update.
func (s *Sim) createCheckout(st *State, req CheckoutRequest) (*Checkout, error) {
	now := s.clock.Now()
	c := &Checkout{ID: s.ids.id("ch"), Mode: "payment", Metadata: req.Metadata,
		RedirectURL: req.RedirectURL, Affiliate: req.Affiliate, CreatedAt: now}
	if req.Mode != "" {
		if req.Mode != "payment" && req.Mode != "setup" {
			return nil, badRequest("mode must be payment or setup, not %q", req.Mode)
		}
		c.Mode = req.Mode
	}
	switch {
	case req.PlanID != "" && req.Plan != nil:
		return nil, badRequest("pass either plan_id or plan, not both")
	case req.PlanID != "":
		p := st.Plans[req.PlanID]
		if p == nil {
			return nil, notFound("plan", req.PlanID)
		}
		c.PlanID, c.CompanyID = p.ID, p.CompanyID
	case req.Plan != nil:
		p, err := s.inlinePlan(st, req.Plan, now)
		if err != nil {
			return nil, err
		}
		c.PlanID, c.CompanyID = p.ID, p.CompanyID
	case c.Mode == "setup":
		company := req.CompanyID
		if company == "" {
			company = req.AccountID
		}
		if st.Companies[company] == nil {
			return nil, badRequest("company_id %q is not a company", company)
		}
		c.CompanyID = company
	default:
		return nil, badRequest("plan_id or plan is required")
	}
	st.Checkouts[c.ID] = c
	return c, nil
}

// inlinePlan validates and stores an inline plan.
func (s *Sim) inlinePlan(st *State, in *InlinePlan, now time.Time) (*Plan, error) {
	company, field := in.CompanyID, in.field
	if field == "" { // a Go caller: either name will do
		field = "plan.company_id"
		if company == "" {
			company = in.AccountID
		}
	}
	if company == "" && field == "plan.account_id" {
		// The newer API defaults the inline plan's account to the caller's;
		// for an app key that is the app owner's company.
		company = st.App.CompanyID
	}
	if st.Companies[company] == nil {
		return nil, badRequest("%s %q is not a company", field, company)
	}
	if in.Currency == "" {
		return nil, badRequest("plan.currency is required")
	}
	p := &Plan{ID: s.ids.id("plan"), CompanyID: company, Currency: in.Currency, PlanType: in.PlanType,
		BillingPeriod: in.BillingPeriod, Title: in.Title, CreatedAt: now}
	if p.PlanType == "" {
		p.PlanType = "one_time"
	}
	if p.PlanType != "one_time" && p.PlanType != "renewal" {
		return nil, badRequest("plan.plan_type must be one_time or renewal, not %q", p.PlanType)
	}
	if in.ProductID != "" {
		if pr := st.Products[in.ProductID]; pr == nil || pr.CompanyID != company {
			return nil, badRequest("plan.product_id %q is not a product of %s", in.ProductID, company)
		}
		p.ProductID = in.ProductID
	}
	var err error
	if p.InitialPrice, err = optionalMajor(in.InitialPrice, p.Currency); err != nil {
		return nil, badRequest("plan.initial_price: %v", err)
	}
	if p.RenewalPrice, err = optionalMajor(in.RenewalPrice, p.Currency); err != nil {
		return nil, badRequest("plan.renewal_price: %v", err)
	}
	if p.InitialPrice < 0 || p.RenewalPrice < 0 {
		return nil, badRequest("plan prices cannot be negative")
	}
	if p.PlanType == "renewal" && p.BillingPeriod <= 0 {
		p.BillingPeriod = 30
	}
	st.Plans[p.ID] = p
	return p, nil
}
