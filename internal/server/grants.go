package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// Grants is credits a company gives its members.
type Grants interface {
	GrantCredits(ctx context.Context, r billing.GrantRequest) (billing.GrantResult, error)
}

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
		res, err = s.billing.Grants.GrantCredits(r.Context(), req)
	}
	if err == nil {
		http.Redirect(w, r, view.DashboardURL(company)+"?grant="+url.QueryEscape(res.Grant.ID)+"#grants", http.StatusSeeOther)
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
	res, err := s.billing.Grants.GrantCredits(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, view.GrantResultReply{Grant: view.GrantJSON(res.Grant), Replayed: res.Replayed})
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
