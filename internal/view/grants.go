package view

import (
	"strconv"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/page"
)

// GrantReply is a grant as the API answers it.
type GrantReply struct {
	ID                 string      `json:"id"`
	ExperienceID       string      `json:"experience_id"`
	CompanyID          string      `json:"company_id"`
	Member             GrantMember `json:"member"`
	Credits            int64       `json:"credits"`
	Spent              int64       `json:"spent"`
	Expired            int64       `json:"expired"`
	Left               int64       `json:"left"`
	Reason             string      `json:"reason"`
	ExpiresAt          *string     `json:"expires_at"`
	ExpiredAt          *string     `json:"expired_at"`
	GrantedBy          string      `json:"granted_by"`
	GrantedByCompanyID string      `json:"granted_by_company_id"`
	IdempotencyKey     string      `json:"idempotency_key"`
	CreatedAt          *string     `json:"created_at"`
}

// GrantMember is who a grant went to.
type GrantMember struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// GrantJSON is a grant as the API answers it.
func GrantJSON(g ledger.CreditGrant) GrantReply {
	return GrantReply{
		ID: g.ID, ExperienceID: g.ExperienceID, CompanyID: g.CompanyID,
		Member:  GrantMember{ID: g.UserID, Username: g.Username},
		Credits: g.Credits, Spent: g.Spent, Expired: g.Expired, Left: g.Left(), Reason: g.Reason,
		ExpiresAt: jsonTime(g.ExpiresAt), ExpiredAt: jsonTime(g.ExpiredAt),
		GrantedBy: g.GrantedBy, GrantedByCompanyID: g.GrantedByCompany, IdempotencyKey: g.IdempotencyKey,
		CreatedAt: jsonTime(g.CreatedAt),
	}
}

func grantFigures(f ledger.GrantFigures) GrantFiguresReply {
	return GrantFiguresReply{Grants: f.Grants, Granted: f.Granted, Spent: f.Spent, Expiries: f.Expiries,
		Expired: f.Expired, Outstanding: f.Outstanding}
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
		{Label: "Granted", Value: FormatCount(f.Granted), Detail: Plural(f.Grants, "grant") + " in 30 days", TestID: "grants-granted"},
		{Label: "Spent", Value: FormatCount(f.Spent), Detail: "of those credits, so far", TestID: "grants-spent"},
		{Label: "Expired", Value: FormatCount(f.Expired), Detail: expiries(f.Expiries) + " in 30 days", TestID: "grants-expired"},
		{Label: "Outstanding", Value: FormatCount(f.Outstanding), Detail: "granted credits members hold now", TestID: "grants-outstanding"},
	}
	for _, gr := range d.GrantList {
		row := page.GrantRow{ID: gr.ID, When: FormatWhen(gr.CreatedAt), Member: grantMember(gr), Experience: gr.ExperienceID,
			Credits: FormatCount(gr.Credits), Reason: gr.Reason, Expires: "never", TestID: "grant-" + gr.ID,
			Status: grantBadge(gr)}
		if !gr.ExpiresAt.IsZero() {
			row.Expires = formatMoment(gr.ExpiresAt)
		}
		row.Used = FormatCount(gr.Spent) + " spent"
		if gr.Expired > 0 {
			row.Used += ", " + FormatCount(gr.Expired) + " expired"
		}
		g.Rows = append(g.Rows, row)
	}
	return g
}

func expiries(n int64) string {
	if n == 1 {
		return "1 expiry"
	}
	return FormatCount(n) + " expiries"
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
		b.Label, b.Tone = FormatCount(g.Left())+" left", "accent"
	}
	return b
}

// grantNotice says what the grant form just did.
func grantNotice(d billing.Dashboard, id string) page.Notice {
	for _, g := range d.GrantList {
		if g.ID == id {
			return page.Notice{Kind: "ok", Text: "Granted " + Plural(g.Credits, "credit") + " to " + grantMember(g) + " in " +
				g.ExperienceID + ". They show in the member's activity now."}
		}
	}
	return page.Notice{}
}
