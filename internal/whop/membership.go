package whop

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"
)

// MembershipStatus is the state of a membership.
type MembershipStatus string

// Membership statuses.
const (
	MembershipTrialing   MembershipStatus = "trialing"
	MembershipActive     MembershipStatus = "active"
	MembershipPastDue    MembershipStatus = "past_due"
	MembershipCompleted  MembershipStatus = "completed"
	MembershipCanceled   MembershipStatus = "canceled"
	MembershipExpired    MembershipStatus = "expired"
	MembershipUnresolved MembershipStatus = "unresolved"
	MembershipDrafted    MembershipStatus = "drafted"
	MembershipCanceling  MembershipStatus = "canceling"
)

// grantsAccess is the fallback for Membership.Valid when Whop does not send
// "valid" (v1 never does). "canceling" still runs to the period end;
// "past_due" is in Whop's payment-retry grace; "completed" is a finished
// one-time or split-pay purchase that keeps its access.
func (s MembershipStatus) grantsAccess() bool {
	switch s {
	case MembershipActive, MembershipTrialing, MembershipCanceling, MembershipPastDue, MembershipCompleted:
		return true
	}
	return false
}

// Membership is a user's membership of a product through a plan, normalized
// across the v1 API and both webhook generations.
type Membership struct {
	ID        string
	Status    MembershipStatus
	UserID    string
	PlanID    string
	ProductID string
	CompanyID string
	Metadata  map[string]string
	// Valid reports whether the membership grants access: Whop's own "valid"
	// where sent (v2, v5, legacy webhooks), else derived from Status.
	Valid             bool
	CancelAtPeriodEnd bool
	CreatedAt         time.Time
	// UpdatedAt is when Whop last changed the membership: what orders two
	// states of it that webhooks deliver in any order. Zero when the shape
	// carries none (the legacy webhooks).
	UpdatedAt                            time.Time
	RenewalPeriodStart, RenewalPeriodEnd time.Time
	CheckoutConfigurationID              string
}

type wireMembership struct {
	ID                      flexString `json:"id"`
	Status                  flexString `json:"status"`
	Valid                   optBool    `json:"valid"`
	User                    link       `json:"user"`
	UserID                  flexString `json:"user_id"`
	Plan                    link       `json:"plan"`
	PlanID                  flexString `json:"plan_id"`
	Product                 link       `json:"product"`
	ProductID               flexString `json:"product_id"`
	AccessPass              link       `json:"access_pass"`
	Company                 link       `json:"company"`
	CompanyID               flexString `json:"company_id"`
	AccountID               flexString `json:"account_id"`
	PageID                  flexString `json:"page_id"` // v5's name for the company
	Metadata                metadata   `json:"metadata"`
	CancelAtPeriodEnd       optBool    `json:"cancel_at_period_end"`
	CreatedAt               flexTime   `json:"created_at"`
	UpdatedAt               flexTime   `json:"updated_at"`
	RenewalPeriodStart      flexTime   `json:"renewal_period_start"`
	RenewalPeriodEnd        flexTime   `json:"renewal_period_end"`
	CheckoutConfigurationID flexString `json:"checkout_configuration_id"`
	CheckoutSession         link       `json:"checkout_session"`
}

func (w *wireMembership) normalize() *Membership {
	m := &Membership{
		ID:                      string(w.ID),
		Status:                  MembershipStatus(w.Status),
		UserID:                  cmp.Or(w.User.ID, string(w.UserID)),
		PlanID:                  cmp.Or(w.Plan.ID, string(w.PlanID)),
		ProductID:               cmp.Or(w.Product.ID, string(w.ProductID), w.AccessPass.ID),
		CompanyID:               cmp.Or(w.Company.ID, string(w.CompanyID), string(w.AccountID), string(w.PageID)),
		Metadata:                w.Metadata,
		CancelAtPeriodEnd:       w.CancelAtPeriodEnd.val,
		CreatedAt:               time.Time(w.CreatedAt),
		UpdatedAt:               time.Time(w.UpdatedAt),
		RenewalPeriodStart:      time.Time(w.RenewalPeriodStart),
		RenewalPeriodEnd:        time.Time(w.RenewalPeriodEnd),
		CheckoutConfigurationID: cmp.Or(string(w.CheckoutConfigurationID), w.CheckoutSession.ID),
	}
	m.Valid = m.Status.grantsAccess()
	if w.Valid.set {
		m.Valid = w.Valid.val
	}
	return m
}

func decodeMembership(data []byte) (*Membership, error) {
	var w wireMembership
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("whop: decode membership: %w", err)
	}
	return w.normalize(), nil
}

// GetMembership retrieves a membership by id ("mem_…") or license key.
func (c *Client) GetMembership(ctx context.Context, id string) (*Membership, error) {
	var w wireMembership
	if err := c.getV1(ctx, "membership id", "/memberships/", id, &w); err != nil {
		return nil, err
	}
	return w.normalize(), nil
}

// ListMembershipsParams filters ListMemberships. Empty fields are not sent.
type ListMembershipsParams struct {
	CompanyID  string
	UserIDs    []string
	Statuses   []MembershipStatus
	PlanIDs    []string
	ProductIDs []string
	PageSize   int
}

// ListMemberships pages through memberships matching p. The sequence stops
// after the last page, after a page that failed (its error yielded with a
// nil membership), or when the caller breaks out of the loop; a membership
// that does not decode is yielded as an error and paging goes on.
func (c *Client) ListMemberships(ctx context.Context, p ListMembershipsParams) iter.Seq2[*Membership, error] {
	q := make(queryBuilder)
	q.set("company_id", p.CompanyID)
	q.list("user_ids", p.UserIDs)
	q.list("statuses", stringsOf(p.Statuses))
	q.list("plan_ids", p.PlanIDs)
	q.list("product_ids", p.ProductIDs)
	return paginate(ctx, c, c.v1("/memberships"), q, p.PageSize, func(w *wireMembership) (*Membership, error) {
		return w.normalize(), nil
	})
}
