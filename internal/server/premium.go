package server

import (
	"context"
	"net/http"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// Premium is the premium plan's use cases.
type Premium interface {
	Enabled() bool
	State(ctx context.Context, userID, experienceID string) (billing.PremiumState, error)
	Content(ctx context.Context, userID, experienceID string) (billing.PremiumState, error)
	UpgradeCheckout(ctx context.Context, userID, experienceID string) (billing.PremiumCheckout, error)
	Members(ctx context.Context, userID, companyID string) (billing.PremiumList, error)
}

// premiumPage is the members-only lounge. A hand-typed URL gets the same
// answer as the page's link: 403 without premium, 404 when premium is off.
func (s *Server) premiumPage(w http.ResponseWriter, r *http.Request) {
	expID := chi.URLParam(r, "experienceId")
	st, err := s.billing.Premium.Content(r.Context(), userID(r.Context()), expID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, page.Premium(view.Premium(s.layoutProps("Premium"), expID, st)))
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
	c, err := s.billing.Premium.UpgradeCheckout(r.Context(), userID(r.Context()), b.ExperienceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view.PremiumCheckoutReply{ID: c.CheckoutID, PlanID: c.PlanID, PurchaseURL: c.PurchaseURL})
}

// premiumStatus is what the page polls after the purchase modal closes,
// until Whop's webhook has made the member premium.
func (s *Server) premiumStatus(w http.ResponseWriter, r *http.Request) {
	expID := r.URL.Query().Get("experience_id")
	if err := checkFields(field{"experience_id", expID, true, kindExperience}); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.billing.Premium.State(r.Context(), userID(r.Context()), expID)
	if err == nil && !st.Enabled {
		err = billing.ErrPremiumDisabled
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view.PremiumStatusReply{Premium: st.Member})
}

// premiumMembers is the dashboard's list of a company's premium members.
func (s *Server) premiumMembers(ctx context.Context, userID, companyID string) (component.PremiumMembersProps, error) {
	p := component.PremiumMembersProps{Show: s.billing.Premium.Enabled()}
	if !p.Show {
		return p, nil
	}
	list, err := s.billing.Premium.Members(ctx, userID, companyID)
	if err != nil {
		return p, err
	}
	return view.PremiumMembers(list), nil
}
