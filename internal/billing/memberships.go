package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// membershipEvent records what a membership webhook says about a premium
// membership and grants its period's credits, in one transaction with the
// delivery. Webhooks come in any order and more than once: the state is
// ordered by the membership's own updated_at, and when a delivery cannot be
// placed (a legacy one carries no such time; two states share one) Whop is
// asked for the membership as it is now. The grant is decided from the
// delivery's own data, so it does not depend on the order either.
func (s *core) membershipEvent(ctx context.Context, ev *whop.Event, d *ledger.Delivery) (Delivered, error) {
	if !s.cfg.Premium.Enabled() {
		return describe(s.ignore(ctx, d, "premium is not configured"))
	}
	m, err := ev.Membership()
	if err != nil {
		return Delivered{}, unreadable(err)
	}
	d.ObjectID = m.ID
	if err := checkMembership(m); err != nil {
		return Delivered{}, err
	}
	if !s.isPremiumMembership(m) {
		return describe(s.ignore(ctx, d, "not the premium product"))
	}
	grant := s.periodGrant(m)
	state, authoritative := m, false
	if m.UpdatedAt.IsZero() {
		// A legacy delivery's only time is its signature's, which each retry
		// renews: it cannot order states.
		if state, err = s.rereadMembership(ctx, m.ID); err != nil {
			return Delivered{}, err
		}
		authoritative = true
	}
	return s.recordMembership(ctx, state, authoritative, grant, d)
}

// premiumPayment handles a paid payment of the premium plan: it is never a
// credit purchase, but it is how a renewal shows itself, so the membership
// it paid for is read from Whop and its current period granted. The
// payment is then tied to the grant of the period it paid for, and what of
// it went back to the buyer (a refund, a lost dispute) takes back that
// period's credits in proportion, rounded up, once: the refund and dispute
// webhooks re-read the payment and come here too. The webhooks bring a
// delivery; the reconciler (runID) none, when the webhook was lost: a
// renewal's payment is its only delivery.
func (s *core) premiumPayment(ctx context.Context, p *whop.Payment, d *ledger.Delivery, runID int64) (Delivered, error) {
	m, err := s.rereadMembership(ctx, p.MembershipID)
	if err != nil {
		return Delivered{}, err
	}
	if !s.isPremiumMembership(m) || m.UserID != p.UserID {
		return describe(s.ignore(ctx, d, "premium payment for another membership"))
	}
	if err := checkMembership(m); err != nil {
		return Delivered{}, err
	}
	reversed := reversedAmount(p)
	pay := ledger.PremiumPayment{ID: p.ID, At: cmp.Or(p.PaidAt, p.CreatedAt), Reversed: reversed, ReconcilerRun: runID}
	if reversed > 0 {
		pay.TakeBack = func(granted int64) int64 { return proportionUp(granted, reversed, p.Total) }
	}
	res, err := s.store.RecordPremiumPayment(ctx, s.membershipRow(m), s.periodGrant(m), pay, d)
	if errors.Is(err, ledger.ErrDuplicateDelivery) {
		return duplicate(), nil
	}
	if err != nil {
		return Delivered{}, err
	}
	s.premium.forget(m.UserID)
	if reversed > 0 && res.Grant.ID == 0 {
		// Nothing was granted for the period it paid for (the membership
		// was not valid, or its grant is still to come): nothing to take.
		// Warned of by the webhooks; the reconciler, which reads the
		// payment again on each pass of its window, says so at info.
		level := slog.LevelWarn
		if runID != 0 {
			level = slog.LevelInfo
		}
		s.log.Log(ctx, level, "premium payment reversed, but no period it paid for is granted: nothing taken back",
			"payment_id", p.ID, "membership_id", m.ID, "reversed", reversed, "total", p.Total)
	}
	done := s.membershipOutcome(res.MembershipResult)
	done.Outcome = "premium payment: " + done.Outcome
	if res.TakenBack > 0 {
		done.Outcome += fmt.Sprintf("; took back %d credits", res.TakenBack)
		done.TakenBack = res.TakenBack
	}
	return done, nil
}

// isPremiumPayment tells the premium plan's own payments from credit
// purchases (which carry our purchase id) and from anything else.
func (s *core) isPremiumPayment(p *whop.Payment) bool {
	return s.cfg.Premium.Enabled() && p.IsPaid() && p.Metadata[MetaPurchaseID] == "" && p.MembershipID != "" &&
		(p.PlanID == s.cfg.Premium.PlanID || p.ProductID == s.cfg.Premium.ProductID)
}

func (s *core) isPremiumMembership(m *whop.Membership) bool {
	return m.PlanID != "" && (m.ProductID == s.cfg.Premium.ProductID || m.PlanID == s.cfg.Premium.PlanID)
}

func (s *core) recordMembership(ctx context.Context, m *whop.Membership, authoritative bool, g *ledger.PeriodGrant, d *ledger.Delivery) (Delivered, error) {
	if err := checkMembership(m); err != nil { // as read from Whop's API, too
		return Delivered{}, err
	}
	res, err := s.store.RecordMembership(ctx, s.membershipRow(m), authoritative, g, d)
	if errors.Is(err, ledger.ErrAmbiguousOrder) {
		fresh, ferr := s.rereadMembership(ctx, m.ID)
		if ferr != nil {
			return Delivered{}, ferr
		}
		if ferr := checkMembership(fresh); ferr != nil {
			return Delivered{}, ferr
		}
		res, err = s.store.RecordMembership(ctx, s.membershipRow(fresh), true, g, d)
	}
	if errors.Is(err, ledger.ErrDuplicateDelivery) {
		return duplicate(), nil
	}
	if err != nil {
		return Delivered{}, err
	}
	s.premium.forget(m.UserID) // the other replicas see the row's new updated_at
	return s.membershipOutcome(res), nil
}

// membershipOutcome words what recording a membership state did.
func (s *core) membershipOutcome(res ledger.MembershipResult) Delivered {
	out := "membership " + res.Membership.Status
	switch {
	case res.Stale:
		out += ", older than the recorded state: kept out"
	case !res.Changed:
		out += ", already recorded"
	}
	if res.Granted > 0 {
		out += fmt.Sprintf("; granted %d credits", res.Granted)
	}
	done := applied(out)
	done.Granted = res.Granted
	return done
}

// rereadMembership asks Whop for the membership as it is now. Its time is
// Whop's updated_at, or the moment of asking when Whop sends none.
func (s *core) rereadMembership(ctx context.Context, id string) (*whop.Membership, error) {
	m, err := s.whop.GetMembership(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("billing: re-read membership %s: %w", id, err)
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = s.now()
	}
	return m, nil
}

func (s *core) membershipRow(m *whop.Membership) ledger.Membership {
	exp, company := attribution(m)
	row := ledger.Membership{
		ID: m.ID, UserID: m.UserID, ProductID: m.ProductID, PlanID: m.PlanID,
		ExperienceID: exp, ExperienceCompanyID: company, Status: string(m.Status), Valid: m.Valid,
		WhopCreatedAt: m.CreatedAt, LastEventAt: m.UpdatedAt,
	}
	if row.ProductID == "" { // matched by its plan, which belongs to the premium product
		row.ProductID = s.cfg.Premium.ProductID
	}
	if row.Status == "" {
		row.Status = "unknown"
	}
	if start, end := m.RenewalPeriodStart, m.RenewalPeriodEnd; !start.IsZero() && end.After(start) {
		row.PeriodStart, row.PeriodEnd = start, end
	}
	return row
}

// periodGrant is the credits a valid membership earns for the period it is
// in: keyed by the renewal period's start, or by the membership's creation
// when it has no renewal period (then it earns them once).
func (s *core) periodGrant(m *whop.Membership) *ledger.PeriodGrant {
	exp, _ := attribution(m)
	if s.cfg.Premium.MonthlyCredits <= 0 || !m.Valid || exp == "" {
		return nil
	}
	start, end := m.RenewalPeriodStart, m.RenewalPeriodEnd
	if start.IsZero() || !end.After(start) {
		start, end = m.CreatedAt, time.Time{}
	}
	if start.IsZero() {
		return nil
	}
	return &ledger.PeriodGrant{PeriodStart: start, PeriodEnd: end, ExperienceID: exp, Credits: s.cfg.Premium.MonthlyCredits}
}

// attribution reads the experience (and its company) from the metadata our
// checkout put on the membership. The checkout was made for one user: a
// membership of anyone else that went through it is attributed nowhere.
func attribution(m *whop.Membership) (experienceID, companyID string) {
	exp := m.Metadata[MetaExperienceID]
	if !whop.ValidID(exp, whop.PrefixExperience) || m.Metadata[MetaUserID] != m.UserID {
		return "", ""
	}
	company := m.Metadata[MetaExperienceCompanyID]
	if !whop.ValidID(company, whop.PrefixCompany) {
		company = ""
	}
	return exp, company
}
