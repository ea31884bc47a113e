package server

import (
	"context"
	"net/http"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// premiumPage is the members-only lounge. A hand-typed URL gets the same
// answer as the page's link: 403 without premium, 404 when premium is off.
func (s *Server) premiumPage(w http.ResponseWriter, r *http.Request) {
	expID := chi.URLParam(r, "experienceId")
	st, err := s.billing.PremiumContent(r.Context(), userID(r.Context()), expID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, page.Premium(page.PremiumView{
		Layout:        s.layoutProps("Premium"),
		BackURL:       "/experiences/" + expID,
		Status:        membershipBadge(st.Membership),
		Perk:          perkText(st.MonthlyCredits),
		Granted:       grantedText(st.Grant),
		Renewal:       renewalText(st.Membership),
		MembershipRef: st.Membership.ID,
	}))
}

// premiumCard is the experience view's premium section.
func premiumCard(st billing.PremiumState, experienceID string) component.PremiumCardProps {
	return component.PremiumCardProps{
		Show: st.Enabled, Member: st.Member, Perk: perkText(st.MonthlyCredits),
		Granted: grantedText(st.Grant), Renewal: renewalText(st.Membership),
		LoungeURL: "/experiences/" + experienceID + "/premium",
	}
}

type premiumBody struct {
	ExperienceID string `json:"experience_id"`
}

// premiumCheckout answers with what inAppPurchase takes ({id, planId}) for
// the premium plan, bought from the experience the body names.
func (s *Server) premiumCheckout(w http.ResponseWriter, r *http.Request) {
	var b premiumBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := checkFields(field{"experience_id", b.ExperienceID, true, kindExperience}); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.billing.UpgradeCheckout(r.Context(), userID(r.Context()), b.ExperienceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": c.CheckoutID, "planId": c.PlanID, "purchase_url": c.PurchaseURL})
}

// premiumStatus is what the page polls after the purchase modal closes,
// until Whop's webhook has made the member premium.
func (s *Server) premiumStatus(w http.ResponseWriter, r *http.Request) {
	expID := r.URL.Query().Get("experience_id")
	if err := checkFields(field{"experience_id", expID, true, kindExperience}); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.billing.Premium(r.Context(), userID(r.Context()), expID)
	if err == nil && !st.Enabled {
		err = billing.ErrPremiumDisabled
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"premium": st.Member})
}

// premiumMembers is the dashboard's list of a company's premium members.
func (s *Server) premiumMembers(ctx context.Context, companyID string) (component.PremiumMembersProps, error) {
	p := component.PremiumMembersProps{Show: s.billing.PremiumEnabled()}
	if !p.Show {
		return p, nil
	}
	exps, err := s.billing.PremiumMembers(ctx, companyID)
	if err != nil {
		return p, err
	}
	for _, e := range exps {
		row := component.PremiumExperience{ExperienceID: e.ExperienceID, Count: plural(int64(len(e.Members)), "member")}
		for _, m := range e.Members {
			since := m.WhopCreatedAt
			if since.IsZero() {
				since = m.CreatedAt
			}
			row.Members = append(row.Members, component.PremiumMember{
				UserID: m.UserID, MembershipID: m.ID, Status: membershipBadge(m),
				Since: formatDate(since), Renewal: renewalText(m),
			})
		}
		p.Experiences = append(p.Experiences, row)
	}
	return p, nil
}

func perkText(credits int64) string {
	if credits <= 0 {
		return ""
	}
	return plural(credits, "credit") + " every billing period"
}

func grantedText(g ledger.PremiumGrant) string {
	if g.ID == 0 {
		return ""
	}
	return "This period's " + plural(g.Credits, "credit") + " were added on " + formatDate(g.CreatedAt) + "."
}

// renewalText says when a membership's period ends and whether it renews.
func renewalText(m ledger.Membership) string {
	if m.ID == "" || m.PeriodEnd.IsZero() {
		return ""
	}
	if m.Status == "canceling" {
		return "Ends " + formatDate(m.PeriodEnd)
	}
	return "Renews " + formatDate(m.PeriodEnd)
}

func membershipBadge(m ledger.Membership) component.BadgeProps {
	b := component.BadgeProps{Label: "Active", Tone: "ok", TestID: "membership-status"}
	switch m.Status {
	case "trialing":
		b.Label = "Trial"
	case "canceling":
		b.Label, b.Tone = "Ending", "warn"
	case "past_due":
		b.Label, b.Tone = "Past due", "warn"
	}
	if m.ID != "" {
		b.TestID = "membership-status-" + m.ID
	}
	return b
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Jan 2, 2006")
}
