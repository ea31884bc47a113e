package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// grantForm grants credits from the dashboard's form (no script needed):
// a grant recorded, now or by an earlier sending of the same form, lands
// the admin on the grants list with a notice; a refusal shows the form
// again with what was typed and why.
func (s *Server) grantForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, newError(http.StatusBadRequest, "invalid_form", "The form could not be read."))
		return
	}
	company := chi.URLParam(r, "companyId")
	f := page.GrantForm{Member: r.PostForm.Get("member"), ExperienceID: r.PostForm.Get("experience_id"),
		Credits: r.PostForm.Get("credits"), Reason: r.PostForm.Get("reason"), ExpiresOn: r.PostForm.Get("expires_at")}
	req := billing.GrantRequest{UserID: userID(r.Context()), CompanyID: company, ExperienceID: f.ExperienceID,
		Member: f.Member, Credits: f.Credits, Reason: f.Reason, ExpiresAt: f.ExpiresOn,
		IdempotencyKey: r.PostForm.Get("idempotency_key")}
	var res billing.GrantResult
	err := checkGrant(req)
	if err != nil {
		f = page.GrantForm{Member: printable(f.Member), ExperienceID: printable(f.ExperienceID), Credits: printable(f.Credits),
			Reason: printable(f.Reason), ExpiresOn: printable(f.ExpiresOn)}
	} else {
		res, err = s.billing.GrantCredits(r.Context(), req)
	}
	if err == nil {
		http.Redirect(w, r, dashboardURL(company)+"?grant="+url.QueryEscape(res.Grant.ID)+"#grants", http.StatusSeeOther)
		return
	}
	if errors.Is(err, billing.ErrNoAccess) {
		s.fail(w, r, err)
		return
	}
	he := s.mapError(r, err)
	f.Error = he.message
	s.renderDashboard(w, r, he.status, dashboardForms{grant: f})
}

type grantBody struct {
	CompanyID      string          `json:"company_id"`
	ExperienceID   string          `json:"experience_id"`
	Member         string          `json:"member"`
	Credits        json.RawMessage `json:"credits"` // 50 or "50"
	Reason         string          `json:"reason"`
	ExpiresAt      string          `json:"expires_at"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// grantAPI is POST /api/grants, for the admins of company_id: 201 with the
// grant when it was made now, 200 with the first one when the key was used
// before for the same grant, 409 when it was used for another.
func (s *Server) grantAPI(w http.ResponseWriter, r *http.Request) {
	var b grantBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	req := billing.GrantRequest{UserID: userID(r.Context()), CompanyID: b.CompanyID, ExperienceID: b.ExperienceID,
		Member: b.Member, Credits: amountText(b.Credits), Reason: b.Reason, ExpiresAt: b.ExpiresAt,
		IdempotencyKey: b.IdempotencyKey}
	if err := checkGrant(req); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.billing.GrantCredits(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"grant": grantJSON(res.Grant), "replayed": res.Replayed})
}

// checkGrant checks a grant's fields, from the API or the form, before
// billing judges their values. Billing reports the other empty ones, as
// for payouts; an id is required here, as everywhere.
func checkGrant(g billing.GrantRequest) error {
	return checkFields(
		field{"company_id", g.CompanyID, true, kindCompany},
		field{"experience_id", g.ExperienceID, true, kindExperience},
		field{"member", g.Member, false, kindRecipient},
		field{"credits", g.Credits, false, kindCredits},
		field{"reason", g.Reason, false, kindText(billing.MaxGrantReason)},
		field{"expires_at", g.ExpiresAt, false, kindExpiry},
		field{"idempotency_key", g.IdempotencyKey, false, kindKey},
	)
}

func grantJSON(g ledger.CreditGrant) map[string]any {
	return map[string]any{
		"id": g.ID, "experience_id": g.ExperienceID, "company_id": g.CompanyID,
		"member":  map[string]any{"id": g.UserID, "username": g.Username},
		"credits": g.Credits, "spent": g.Spent, "expired": g.Expired, "left": g.Left(), "reason": g.Reason,
		"expires_at": jsonTime(g.ExpiresAt), "expired_at": jsonTime(g.ExpiredAt),
		"granted_by": g.GrantedBy, "granted_by_company_id": g.GrantedByCompany, "idempotency_key": g.IdempotencyKey,
		"created_at": jsonTime(g.CreatedAt),
	}
}

func grantFiguresJSON(f ledger.GrantFigures) map[string]any {
	return map[string]any{"grants": f.Grants, "granted": f.Granted, "spent": f.Spent, "expiries": f.Expiries,
		"expired": f.Expired, "outstanding": f.Outstanding}
}

// grantsSection formats the dashboard's grants: the figures of the window,
// the form and the newest grants.
func grantsSection(d billing.Dashboard, self string) page.GrantsSection {
	f := d.Grants
	g := page.GrantsSection{Action: self + "/grants#grants", Experiences: d.GrantExperiences,
		Intro: "Credits you give members, kept apart from the credits they buy. A member spends the credits expiring soonest " +
			"first, then credits that never expire, then bought ones; at expiry the unspent part leaves their wallet, once.",
		Form: page.GrantForm{MinDate: d.Revenue.To.AddDate(0, 0, 1).Format("2006-01-02"),
			MaxReason: strconv.Itoa(billing.MaxGrantReason)}}
	if d.IsOwner {
		g.Intro = "Credits given in every company's experiences, kept apart from the credits sold. As the app owner you may grant " +
			"in any experience. A member spends the credits expiring soonest first, then credits that never expire, then bought " +
			"ones; at expiry the unspent part leaves their wallet, once."
	}
	if len(d.GrantExperiences) == 1 {
		g.Form.ExperienceID = d.GrantExperiences[0]
	}
	g.Totals = []page.Stat{
		{Label: "Granted", Value: formatCount(f.Granted), Detail: plural(f.Grants, "grant") + " in 30 days", TestID: "grants-granted"},
		{Label: "Spent", Value: formatCount(f.Spent), Detail: "of those credits, so far", TestID: "grants-spent"},
		{Label: "Expired", Value: formatCount(f.Expired), Detail: expiries(f.Expiries) + " in 30 days", TestID: "grants-expired"},
		{Label: "Outstanding", Value: formatCount(f.Outstanding), Detail: "granted credits members hold now", TestID: "grants-outstanding"},
	}
	for _, gr := range d.GrantList {
		row := page.GrantRow{ID: gr.ID, When: formatWhen(gr.CreatedAt), Member: grantMember(gr), Experience: gr.ExperienceID,
			Credits: formatCount(gr.Credits), Reason: gr.Reason, Expires: "never", TestID: "grant-" + gr.ID,
			Status: grantBadge(gr)}
		if !gr.ExpiresAt.IsZero() {
			row.Expires = formatMoment(gr.ExpiresAt)
		}
		row.Used = formatCount(gr.Spent) + " spent"
		if gr.Expired > 0 {
			row.Used += ", " + formatCount(gr.Expired) + " expired"
		}
		g.Rows = append(g.Rows, row)
	}
	return g
}

func expiries(n int64) string {
	if n == 1 {
		return "1 expiry"
	}
	return formatCount(n) + " expiries"
}

func grantMember(g ledger.CreditGrant) string {
	if g.Username != "" {
		return "@" + g.Username
	}
	return g.UserID
}

// grantBadge says where a grant stands: credits left to spend, all spent,
// or expired.
func grantBadge(g ledger.CreditGrant) component.BadgeProps {
	b := component.BadgeProps{TestID: "grant-status-" + g.ID}
	switch {
	case !g.ExpiredAt.IsZero():
		b.Label = "Expired"
	case g.Left() == 0:
		b.Label, b.Tone = "Spent", "ok"
	default:
		b.Label, b.Tone = formatCount(g.Left())+" left", "accent"
	}
	return b
}

// grantNotice says what the grant form just did.
func grantNotice(d billing.Dashboard, id string) page.Notice {
	for _, g := range d.GrantList {
		if g.ID == id {
			return page.Notice{Kind: "ok", Text: "Granted " + plural(g.Credits, "credit") + " to " + grantMember(g) + " in " +
				g.ExperienceID + ". They show in the member's activity now."}
		}
	}
	return page.Notice{}
}
