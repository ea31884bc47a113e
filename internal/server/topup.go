package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// The member's auto top-up and notifications: a page with the saved card,
// the rule and the choices of what Whop tells them, its forms, and the two
// JSON calls the page's script makes around Whop's setup checkout.

// AutoTopUps is what these handlers need of billing's auto top-up.
type AutoTopUps interface {
	Settings(ctx context.Context, userID, experienceID string) (billing.AutoTopUp, error)
	StartSetup(ctx context.Context, userID, experienceID string) (billing.SetupCheckout, error)
	SaveMethod(ctx context.Context, userID, experienceID, setupIntentID string) (billing.AutoTopUp, error)
	SetRule(ctx context.Context, userID, experienceID string, in billing.RuleInput) (billing.AutoTopUp, error)
	RemoveRule(ctx context.Context, userID, experienceID string) (int, error)
}

// MemberNotices is what these handlers need of billing's notifications.
type MemberNotices interface {
	Prefs(ctx context.Context, userID, experienceID string) (billing.NoticePrefs, error)
	SetPrefs(ctx context.Context, userID, experienceID string, p billing.NoticePrefs) error
	Recent(ctx context.Context, userID, experienceID string) ([]billing.Notice, error)
}

// memberRoutes adds the auto top-up page, its forms and its JSON calls;
// r is the group where a member is identified.
func (s *Server) memberRoutes(r chi.Router) {
	r.With(s.requireExperience).Get("/experiences/{experienceId}/autotopup", s.autoTopUpPage)
	r.With(s.requireExperience).Post("/experiences/{experienceId}/autotopup/rule", s.autoTopUpRule)
	r.With(s.requireExperience).Post("/experiences/{experienceId}/autotopup/remove", s.autoTopUpRemove)
	r.With(s.requireExperience).Post("/experiences/{experienceId}/autotopup/alerts", s.autoTopUpAlerts)
	r.Post("/api/topup/setup", s.topUpSetup)
	r.Post("/api/topup/method", s.topUpMethod)
}

var errNoTopUps = newError(http.StatusServiceUnavailable, "unavailable", "Auto top-up is not available here.")

func (s *Server) topUpsReady(w http.ResponseWriter, r *http.Request) bool {
	if s.topups == nil || s.notices == nil {
		s.fail(w, r, errNoTopUps)
		return false
	}
	return true
}

// topUpError maps auto top-up's refusals to 4xx.
func topUpError(err error) error {
	switch {
	case errors.Is(err, billing.ErrSetupNotUsable):
		return newError(http.StatusUnprocessableEntity, "setup_not_usable", "Whop did not save a card for you with that setup. Please try again.")
	case errors.Is(err, billing.ErrNoSavedMethod):
		return newError(http.StatusConflict, "no_saved_method", "Save a card first: a top-up charges it.")
	case errors.Is(err, billing.ErrBadTopUpRule):
		return newError(http.StatusBadRequest, "invalid_rule", "The threshold must be at least 1 credit and the daily limit between 1 and 50.")
	case errors.Is(err, billing.ErrBadLowBalance):
		return newError(http.StatusBadRequest, "invalid_low_balance_below", "A low-balance alert needs a line of at least 1 credit.")
	}
	return err
}

func (s *Server) autoTopUpPage(w http.ResponseWriter, r *http.Request) {
	if !s.topUpsReady(w, r) {
		return
	}
	v, err := s.autoTopUpView(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch q := r.URL.Query(); {
	case q.Get("saved") == "rule":
		v.Message = "Rule saved."
	case q.Get("saved") == "alerts":
		v.Message = "Notifications saved."
	case q.Get("setup") == "returned" && v.Card == "":
		v.Message = "Back from Whop: your card shows here as soon as Whop confirms it was saved."
	case q.Get("setup") == "returned":
		v.Message = "Card saved."
	case q.Get("removed") != "":
		v.Message = "Rule removed."
		if n, _ := strconv.Atoi(q.Get("removed")); n > 0 {
			v.Message += " The top-up it had scheduled was canceled."
		}
	}
	s.render(w, r, http.StatusOK, page.AutoTopUp(v))
}

// autoTopUpView gathers the page's data; form, when set, is a rule form to
// show again as typed.
func (s *Server) autoTopUpView(r *http.Request, form *page.TopUpRuleForm) (page.AutoTopUpView, error) {
	ctx, user, exp := r.Context(), userID(r.Context()), chi.URLParam(r, "experienceId")
	a, err := s.topups.Settings(ctx, user, exp)
	if err != nil {
		return page.AutoTopUpView{}, err
	}
	prefs, err := s.notices.Prefs(ctx, user, exp)
	if err != nil {
		return page.AutoTopUpView{}, err
	}
	notices, err := s.notices.Recent(ctx, user, exp)
	if err != nil {
		return page.AutoTopUpView{}, err
	}
	balance, err := s.billing.Credits.Balance(ctx, user, exp)
	if err != nil {
		return page.AutoTopUpView{}, err
	}
	return view.AutoTopUp(s.layoutProps("Auto top-up"), exp, view.AutoTopUpData{Settings: a, Prefs: prefs, Notices: notices,
		Balance: balance, Packages: s.billing.Credits.Packages(), Currency: s.billing.Credits.Currency()}, form), nil
}

// formCount reads a whole positive number typed in a form.
func formCount(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n > 0
}

func (s *Server) autoTopUpRule(w http.ResponseWriter, r *http.Request) {
	if !s.topUpsReady(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, newError(http.StatusBadRequest, "invalid_form", "The form could not be read."))
		return
	}
	form := page.TopUpRuleForm{Threshold: printable(r.PostForm.Get("threshold")), Package: printable(r.PostForm.Get("package")),
		DailyLimit: printable(r.PostForm.Get("daily_limit"))}
	exp := chi.URLParam(r, "experienceId")
	threshold, ok1 := formCount(form.Threshold)
	limit, ok2 := formCount(form.DailyLimit)
	var err error
	switch {
	case !ok1 || !ok2 || limit > 50:
		err = topUpError(billing.ErrBadTopUpRule)
	case !isSlug(form.Package):
		err = newError(http.StatusBadRequest, "invalid_package", "Choose one of the packages.")
	default:
		_, err = s.topups.SetRule(r.Context(), userID(r.Context()), exp,
			billing.RuleInput{Threshold: threshold, PackageID: form.Package, DailyLimit: int(limit)})
	}
	if err == nil {
		http.Redirect(w, r, view.ExperienceURL(exp)+"/autotopup?saved=rule", http.StatusSeeOther)
		return
	}
	s.autoTopUpFormFailed(w, r, topUpError(err), &form)
}

func (s *Server) autoTopUpFormFailed(w http.ResponseWriter, r *http.Request, err error, form *page.TopUpRuleForm) {
	if errors.Is(err, billing.ErrNoAccess) {
		s.fail(w, r, err)
		return
	}
	he := s.mapError(r, err)
	if he.status >= 500 {
		s.fail(w, r, err)
		return
	}
	v, verr := s.autoTopUpView(r, form)
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	v.Error = he.message
	s.render(w, r, he.status, page.AutoTopUp(v))
}

func (s *Server) autoTopUpRemove(w http.ResponseWriter, r *http.Request) {
	if !s.topUpsReady(w, r) {
		return
	}
	exp := chi.URLParam(r, "experienceId")
	n, err := s.topups.RemoveRule(r.Context(), userID(r.Context()), exp)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, view.ExperienceURL(exp)+"/autotopup?removed="+url.QueryEscape(strconv.Itoa(n)), http.StatusSeeOther)
}

func (s *Server) autoTopUpAlerts(w http.ResponseWriter, r *http.Request) {
	if !s.topUpsReady(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, newError(http.StatusBadRequest, "invalid_form", "The form could not be read."))
		return
	}
	on := func(name string) bool { return r.PostForm.Get(name) != "" }
	p := billing.NoticePrefs{Credited: on("credited"), LowBalance: on("low_balance"), TopUpFailed: on("topup_failed"),
		GrantExpiring: on("grant_expiring")}
	exp := chi.URLParam(r, "experienceId")
	var err error
	if below := strings.TrimSpace(r.PostForm.Get("low_balance_below")); below != "" {
		n, ok := formCount(below)
		if !ok {
			err = topUpError(billing.ErrBadLowBalance)
		}
		p.LowBalanceBelow = n
	}
	if err == nil {
		err = s.notices.SetPrefs(r.Context(), userID(r.Context()), exp, p)
	}
	if err == nil {
		http.Redirect(w, r, view.ExperienceURL(exp)+"/autotopup?saved=alerts", http.StatusSeeOther)
		return
	}
	s.autoTopUpFormFailed(w, r, topUpError(err), nil)
}

type topUpSetupBody struct {
	ExperienceID string `json:"experience_id"`
}

func (b topUpSetupBody) check() error {
	return checkFields(field{"experience_id", b.ExperienceID, true, kindExperience})
}

type topUpMethodBody struct {
	ExperienceID  string `json:"experience_id"`
	SetupIntentID string `json:"setup_intent_id"`
}

func (b topUpMethodBody) check() error {
	return checkFields(field{"experience_id", b.ExperienceID, true, kindExperience},
		field{"setup_intent_id", b.SetupIntentID, true, idOf(whop.PrefixSetupIntent, "the setup intent id the modal returned")})
}

// topUpSetup makes the setup-mode checkout the page opens in Whop's modal.
func (s *Server) topUpSetup(w http.ResponseWriter, r *http.Request) {
	if !s.topUpsReady(w, r) {
		return
	}
	var b topUpSetupBody
	if err := decodeChecked(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	sc, err := s.topups.StartSetup(r.Context(), userID(r.Context()), b.ExperienceID)
	if err != nil {
		s.fail(w, r, topUpError(err))
		return
	}
	writeJSON(w, http.StatusOK, view.TopUpSetupReply{ID: sc.CheckoutID, PurchaseURL: sc.PurchaseURL})
}

// topUpMethod records the card the modal's setup saved.
func (s *Server) topUpMethod(w http.ResponseWriter, r *http.Request) {
	if !s.topUpsReady(w, r) {
		return
	}
	var b topUpMethodBody
	if err := decodeChecked(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.topups.SaveMethod(r.Context(), userID(r.Context()), b.ExperienceID, b.SetupIntentID)
	if err != nil {
		s.fail(w, r, topUpError(err))
		return
	}
	writeJSON(w, http.StatusOK, view.SavedCard(a))
}
