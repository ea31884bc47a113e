package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// Reports is what admins and members read back: the dashboard (here and
// in dashboard_api.go) and the exports (exports.go).
type Reports interface {
	Dashboard(ctx context.Context, userID, companyID string) (billing.Dashboard, error)
	MemberHistory(ctx context.Context, userID, experienceID string, write func([]billing.HistoryRow) error) error
	ReadExportPeriod(from, to string) (billing.ExportPeriod, error)
	CompanyExport(ctx context.Context, userID, companyID string, p billing.ExportPeriod, write func([]billing.ExportRow) error) error
}

// The dashboard's pages work without script: the look-up is a GET form,
// payouts and refunds are POST forms answered with a redirect (so a reload
// never sends twice), and the refund has its own confirmation page.

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	s.renderDashboard(w, r, http.StatusOK, dashboardForms{})
}

// dashboardForms are the dashboard's forms as the admin left them: empty,
// or holding what they typed beside the reason it was refused.
type dashboardForms struct {
	payout page.PayoutForm
	grant  page.GrantForm
}

// renderDashboard shows the dashboard with its forms as given (kept after
// an error) and, when the URL asks, a payment look-up.
func (s *Server) renderDashboard(w http.ResponseWriter, r *http.Request, status int, forms dashboardForms) {
	form := forms.payout
	ctx := r.Context()
	company, user := chi.URLParam(r, "companyId"), userID(ctx)
	d, err := s.billing.Reports.Dashboard(ctx, user, company)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	v := view.Dashboard(d, s.layoutProps("Dashboard"), view.DashboardURL(company), q)
	if v.PremiumMembers, err = s.premiumMembers(ctx, userID(r.Context()), company); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Lookup.API = string(s.billing.MoneyOut.PaymentsAPI())
	var look billing.PaymentLookup
	if id := strings.TrimSpace(q.Get("payment")); id != "" {
		v.Lookup.Query = printable(id)
		err := checkFields(field{"payment", id, true, kindPayment})
		if err != nil {
			// Whop is not asked about what is no payment id: the form
			// says so beside the box, and the page answers 400.
			if status == http.StatusOK {
				status = http.StatusBadRequest
			}
		} else {
			look, err = s.billing.MoneyOut.LookupPayment(ctx, user, company, id)
		}
		if err != nil {
			v.Lookup.Error = s.mapError(r, err).message
		} else {
			props := view.Payment(look, company)
			v.Lookup.Payment = &props
		}
	}
	if q.Get("notice") == "refunded" && (v.Lookup.Payment == nil || !d.IsOwner || look.RefundState == billing.RefundNone) {
		// The redirect after a refund says so; a hand-made or stale link
		// claims nothing: only the owner's admins refund, and only a
		// payment the look-up shows refunded was.
		v.Notice = page.Notice{}
	}
	form.Key = newFormKey()
	form.Currency, form.MaxNotes = v.Payouts.Form.Currency, v.Payouts.Form.MaxNotes
	v.Payouts.Form = form
	g := forms.grant
	g.Key, g.MinDate, g.MaxReason = newFormKey(), v.Grants.Form.MinDate, v.Grants.Form.MaxReason
	if g.ExperienceID == "" && g.Error == "" {
		g.ExperienceID = v.Grants.Form.ExperienceID
	}
	v.Grants.Form = g
	s.render(w, r, status, page.Dashboard(v))
}

// payoutForm sends a payout from the dashboard's form. Whatever Whop
// answers once the payout is recorded, the admin lands on the history;
// a request refused before that shows the form again with the reason.
func (s *Server) payoutForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, newError(http.StatusBadRequest, "invalid_form", "The form could not be read."))
		return
	}
	company := chi.URLParam(r, "companyId")
	f := page.PayoutForm{Recipient: r.PostForm.Get("recipient"), Amount: r.PostForm.Get("amount"), Notes: r.PostForm.Get("notes")}
	req := billing.PayoutRequest{
		UserID: userID(r.Context()), CompanyID: company, Recipient: f.Recipient, Amount: f.Amount, Notes: f.Notes,
		IdempotencyKey: r.PostForm.Get("idempotency_key"),
	}
	var res billing.PayoutResult
	err := checkPayout(req)
	if err != nil {
		// The form is shown again with what was typed: drop what cannot
		// be shown back as text.
		f = page.PayoutForm{Recipient: printable(f.Recipient), Amount: printable(f.Amount), Notes: printable(f.Notes)}
	} else {
		res, err = s.billing.MoneyOut.SendPayout(r.Context(), req)
	}
	if res.Payout.ID != "" {
		http.Redirect(w, r, view.DashboardURL(company)+"?payout="+url.QueryEscape(res.Payout.ID)+"#payouts", http.StatusSeeOther)
		return
	}
	if errors.Is(err, billing.ErrNoAccess) {
		s.fail(w, r, err)
		return
	}
	he := s.mapError(r, err)
	f.Error = he.message
	s.renderDashboard(w, r, he.status, dashboardForms{payout: f})
}

// refundConfirm is the refund's first step: it shows what will happen and
// changes nothing. Like the refund itself, it is for the app owner's
// admins only (billing decides; a creator's admin gets 403).
func (s *Server) refundConfirm(w http.ResponseWriter, r *http.Request) {
	company, id := chi.URLParam(r, "companyId"), chi.URLParam(r, "paymentId")
	look, err := s.billing.MoneyOut.RefundablePayment(r.Context(), userID(r.Context()), company, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, page.Refund(view.Refund(s.layoutProps("Confirm refund"), look, company, "", newFormKey(), "")))
}

// refund is the second step: the confirmed refund, sent to Whop.
func (s *Server) refund(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, newError(http.StatusBadRequest, "invalid_form", "The form could not be read."))
		return
	}
	company, id := chi.URLParam(r, "companyId"), chi.URLParam(r, "paymentId")
	amount, key := r.PostForm.Get("amount"), r.PostForm.Get("idempotency_key")
	if err := checkRefund(amount, key); err != nil {
		s.fail(w, r, err)
		return
	}
	look, err := s.billing.MoneyOut.RefundPayment(r.Context(), billing.RefundRequest{
		UserID: userID(r.Context()), CompanyID: company, PaymentID: id, Amount: amount, IdempotencyKey: key,
	})
	if err != nil {
		if look.Payment == nil {
			s.fail(w, r, err)
			return
		}
		he := s.mapError(r, err)
		s.render(w, r, he.status, page.Refund(view.Refund(s.layoutProps("Confirm refund"), look, company, amount, refundKeyAfter(err, key), he.message)))
		return
	}
	http.Redirect(w, r, view.DashboardURL(company)+"?payment="+url.QueryEscape(id)+"&notice=refunded#lookup", http.StatusSeeOther)
}

// refundKeyAfter is the key the refund form carries after a failed
// submission. When Whop may have refunded (a timeout, a 5xx) the same key
// goes back, so sending the form again cannot refund twice; when nothing
// was refunded for sure (the request was refused, by us or by Whop, which
// would replay its refusal for the key) a fresh one lets the admin retry.
func refundKeyAfter(err error, key string) string {
	var field *billing.FieldError
	var refused *billing.RefusedError
	if key == "" || errors.As(err, &field) || errors.As(err, &refused) || errors.Is(err, billing.ErrNotRefundable) {
		return newFormKey()
	}
	return key
}

// checkRefund checks the refund form's fields (checkPath, its path).
func checkRefund(amount, key string) error {
	return checkFields(
		field{"amount", amount, false, kindAmount},
		field{"idempotency_key", key, false, kindKey},
	)
}

// printable is s for showing back in a form, or "" when it holds what a
// form field cannot show (invalid UTF-8, control characters).
func printable(s string) string {
	if isPlainText(s) {
		return s
	}
	return ""
}

// newFormKey is the idempotency key of one rendering of the payout or
// refund form: submitting that form twice (a double click, a resent POST)
// pays or refunds once.
func newFormKey() string {
	var b [16]byte
	rand.Read(b[:])
	return "form-" + hex.EncodeToString(b[:])
}
