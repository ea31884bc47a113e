package billing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// PremiumConfig is the premium access pass and its plan. Without both ids
// premium is off: hidden from members, its routes answer 404.
type PremiumConfig struct {
	ProductID string // prod_…: what Whop's access check asks about
	PlanID    string // plan_…: what the upgrade checkout sells
	// MonthlyCredits are granted to each premium member once per billing
	// period, in the experience the membership was bought in (0 = none).
	MonthlyCredits int64
	// TTL is how long an access answer is trusted while no membership change
	// is recorded (default 30 s); a "no" is kept 5 s at most.
	TTL time.Duration
}

// Enabled reports whether premium is configured.
func (p PremiumConfig) Enabled() bool { return p.ProductID != "" && p.PlanID != "" }

// Errors of the premium use cases.
var (
	ErrPremiumDisabled = errors.New("billing: premium is not offered")
	ErrNotPremium      = errors.New("billing: not a premium member")
	ErrAlreadyPremium  = errors.New("billing: already a premium member")
)

// PremiumState is what a member has of premium in an experience.
type PremiumState struct {
	Enabled        bool
	Member         bool
	MonthlyCredits int64
	// Membership is the member's recorded premium membership; zero when Whop
	// grants premium without one the app has seen (bought elsewhere, or
	// before its webhook arrived).
	Membership ledger.Membership
	// Grant is this period's credits in this experience; zero when none.
	Grant ledger.PremiumGrant
}

// PremiumEnabled reports whether premium is configured.
func (s Premium) Enabled() bool { return s.cfg.Premium.Enabled() }

// Premium returns the user's premium state in an experience they may use.
// With premium off it is the zero state (Enabled false), not an error.
func (s Premium) State(ctx context.Context, userID, experienceID string) (PremiumState, error) {
	if !s.cfg.Premium.Enabled() {
		return PremiumState{}, nil
	}
	if err := s.experienceAccess(ctx, userID, experienceID); err != nil {
		return PremiumState{}, err
	}
	member, err := s.premium.check(ctx, userID)
	if err != nil {
		return PremiumState{Enabled: true, MonthlyCredits: s.cfg.Premium.MonthlyCredits}, err
	}
	return s.premiumState(ctx, userID, experienceID, member)
}

// premiumState is Premium once Whop's answer (member) is known: a member's
// recorded membership and this period's grant are read, in two more round
// trips; a non-member's state needs nothing more.
func (s *core) premiumState(ctx context.Context, userID, experienceID string, member bool) (PremiumState, error) {
	st := PremiumState{Enabled: true, MonthlyCredits: s.cfg.Premium.MonthlyCredits}
	if !member {
		return st, nil
	}
	st.Member = true
	m, err := s.store.ValidMembership(ctx, userID, s.cfg.Premium.ProductID, experienceID)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return st, nil
	case err != nil:
		return st, err
	}
	st.Membership = m
	start := m.PeriodStart
	if start.IsZero() {
		start = m.WhopCreatedAt
	}
	g, err := s.store.PeriodGrantOf(ctx, m.ID, start)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
	case err != nil:
		return st, err
	case g.ExperienceID == experienceID:
		st.Grant = g
	}
	return st, nil
}

// PremiumContent is Premium for the gated part of the app: ErrNotPremium
// for anyone without premium, ErrPremiumDisabled when premium is off.
func (s Premium) Content(ctx context.Context, userID, experienceID string) (PremiumState, error) {
	if !s.cfg.Premium.Enabled() {
		return PremiumState{}, ErrPremiumDisabled
	}
	st, err := s.State(ctx, userID, experienceID)
	if err == nil && !st.Member {
		err = ErrNotPremium
	}
	return st, err
}

// PremiumCheckout is what the iframe's inAppPurchase takes for the upgrade.
// UpgradeReturnQuery marks the experience URL Whop's checkout page sends a
// member back to after paying for premium.
const UpgradeReturnQuery = "upgrade=returned"

// PremiumCheckout is what inAppPurchase (or Whop's checkout page) needs.
type PremiumCheckout struct {
	CheckoutID  string // "id"
	PlanID      string // "planId"
	PurchaseURL string // Whop's hosted checkout, for upgrading outside the iframe
}

// UpgradeCheckout creates a Whop checkout configuration for the premium
// plan, with metadata naming the experience and the user, so the membership
// it makes is attributed to that experience (and its creator's dashboard).
func (s Premium) UpgradeCheckout(ctx context.Context, userID, experienceID string) (PremiumCheckout, error) {
	if !s.cfg.Premium.Enabled() {
		return PremiumCheckout{}, ErrPremiumDisabled
	}
	if err := s.experienceAccess(ctx, userID, experienceID); err != nil {
		return PremiumCheckout{}, err
	}
	member, err := s.premium.check(ctx, userID)
	if err != nil {
		return PremiumCheckout{}, err
	}
	if member {
		return PremiumCheckout{}, ErrAlreadyPremium
	}
	exp, err := s.whop.GetExperience(ctx, experienceID)
	if errors.Is(err, whop.ErrNotFound) {
		return PremiumCheckout{}, ErrUnknownExperience
	}
	if err != nil {
		return PremiumCheckout{}, fmt.Errorf("billing: upgrade: experience: %w", err)
	}
	ch, err := s.whop.CreateCheckoutConfiguration(ctx, whop.CheckoutConfigurationParams{
		PlanID: s.cfg.Premium.PlanID,
		Metadata: map[string]string{
			MetaExperienceID:        experienceID,
			MetaUserID:              userID,
			MetaExperienceCompanyID: exp.CompanyID,
		},
		// Paying on Whop's own page brings the buyer back to the experience,
		// marked so the page waits for Whop to confirm the membership (the
		// webhook may land after the buyer does).
		RedirectURL: s.appURL("/experiences/" + url.PathEscape(experienceID) + "?" + UpgradeReturnQuery),
		// Fresh per call: the client's own retries of this call make one.
		IdempotencyKey: newID("premium_"),
	})
	if err != nil {
		return PremiumCheckout{}, fmt.Errorf("billing: upgrade: checkout configuration: %w", err)
	}
	planID := ch.PlanID
	if planID == "" {
		planID = s.cfg.Premium.PlanID
	}
	return PremiumCheckout{CheckoutID: ch.ID, PlanID: planID, PurchaseURL: ch.PurchaseURL}, nil
}

// ExperiencePremium is one experience's premium members.
type ExperiencePremium struct {
	ExperienceID string
	Members      []ledger.Membership
}

// PremiumList is a dashboard's list of premium members.
type PremiumList struct {
	Experiences []ExperiencePremium
	// AppWide is the app owner's list: every premium member of the app.
	AppWide bool
	// More says memberships past the first MaxPremiumListed were left out.
	More bool
}

// MaxPremiumListed bounds a dashboard's list of premium members, read on
// every load.
const MaxPremiumListed = 200

// Members lists the valid premium memberships bought in a company's
// experiences, grouped by experience: a dashboard report, read as one, for
// the company's admins only (ErrNoAccess for anyone else). The app owner's
// company sells premium, so its admins get every valid premium membership
// of the app, those bought in no experience of the app last (ExperienceID
// ""). At most MaxPremiumListed are listed.
func (s Premium) Members(ctx context.Context, userID, companyID string) (PremiumList, error) {
	var list PremiumList
	if err := s.companyAdmin(ctx, userID, companyID); err != nil {
		return list, err
	}
	if !s.cfg.Premium.Enabled() {
		return list, nil
	}
	scope := companyID
	if companyID == s.cfg.CompanyID {
		scope, list.AppWide = "", true
	}
	var ms []ledger.Membership
	_, err := s.reports.Read(ctx, func(st *ledger.Store) (err error) {
		ms, err = st.CompanyMemberships(ctx, scope, s.cfg.Premium.ProductID, MaxPremiumListed+1)
		return err
	})
	if err != nil {
		return PremiumList{}, err
	}
	if len(ms) > MaxPremiumListed {
		ms, list.More = ms[:MaxPremiumListed], true
	}
	for _, m := range ms {
		exps := list.Experiences
		if len(exps) == 0 || exps[len(exps)-1].ExperienceID != m.ExperienceID {
			list.Experiences = append(list.Experiences, ExperiencePremium{ExperienceID: m.ExperienceID})
		}
		last := &list.Experiences[len(list.Experiences)-1]
		last.Members = append(last.Members, m)
	}
	return list, nil
}
