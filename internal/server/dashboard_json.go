package server

import (
	"net/http"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/go-chi/chi/v5"
)

// dashboardAPI is GET /api/dashboard/{companyId}: the dashboard's figures
// as JSON, for that company's admins. The owner's admins get the whole app
// (every installing company, the shares, the net and the comparison with
// Whop); a creator's admins get their own experiences. Amounts are minor
// units of "currency"; times are RFC 3339 UTC.
func (s *Server) dashboardAPI(w http.ResponseWriter, r *http.Request) {
	d, err := s.billing.Dashboard(r.Context(), userID(r.Context()), chi.URLParam(r, "companyId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, dashboardJSON(d))
}

func dashboardJSON(d billing.Dashboard) map[string]any {
	rep := d.Revenue
	days := make([]map[string]any, 0, len(rep.Days))
	for _, day := range rep.Days {
		f := figuresJSON(day.RevenueFigures)
		f["day"] = day.Day.Format("2006-01-02")
		days = append(days, f)
	}
	packages := make([]map[string]any, 0, len(rep.Packages))
	for _, p := range rep.Packages {
		f := figuresJSON(p.RevenueFigures)
		f["package"] = p.PackageID
		packages = append(packages, f)
	}
	latestGrants := make([]map[string]any, 0, len(d.GrantList))
	for _, g := range d.GrantList {
		latestGrants = append(latestGrants, grantJSON(g))
	}
	role := "creator"
	if d.IsOwner {
		role = "owner"
	}
	out := map[string]any{
		"company_id": d.CompanyID, "company_title": d.CompanyTitle, "role": role, "currency": d.Currency,
		"from": rep.From.Format("2006-01-02"), "to": rep.To.Format("2006-01-02"),
		"totals": figuresJSON(rep.Totals), "days": days, "packages": packages,
		"revenue_shares": shareSummaryJSON(d.ShareSummary), "revenue_share_basis_points": d.ShareBasisPoints,
		"grants": grantFiguresJSON(d.Grants), "latest_grants": latestGrants,
		"app": nil, "reports": reportsJSON(d),
	}
	if o := d.Overview; o != nil {
		companies := make([]map[string]any, 0, len(o.Companies))
		for _, c := range o.Companies {
			companies = append(companies, map[string]any{"company_id": c.CompanyID, "title": c.Title,
				"experiences": c.Experiences, "sales": c.Sales, "taken": c.Gross, "refunded": c.Refunded,
				"share_paid": c.SharePaid, "last_sale": jsonTime(c.LastSale)})
		}
		out["app"] = map[string]any{
			"companies": companies, "shares": shareSummaryJSON(o.Shares), "net": o.Net,
			"books": booksJSON(o.Books),
		}
	}
	return out
}

func figuresJSON(f ledger.RevenueFigures) map[string]any {
	return map[string]any{"sales": f.Sales, "credits": f.Credits, "taken": f.Gross, "refunded": f.Refunded,
		"refunded_credits": f.RefundedCredits, "disputes": f.Disputes, "disputed": f.Disputed, "net": f.Net()}
}

func shareSummaryJSON(s ledger.ShareSummary) map[string]any {
	return map[string]any{"count": s.Count, "paid": s.Paid, "pending": s.Pending, "failed": s.Failed,
		"withheld": s.Withheld, "cancelled": s.Cancelled, "owed_back": s.Clawback, "refunded_shares": s.RefundedShares}
}

func booksJSON(b billing.BooksCheck) map[string]any {
	diffs := func(ds []billing.BooksDifference) []map[string]any {
		out := make([]map[string]any, 0, len(ds))
		for _, d := range ds {
			var refused any // null unless we refused the payment
			if d.Refused != "" {
				refused = d.Refused
			}
			out = append(out, map[string]any{"payment_id": d.PaymentID, "purchase_id": d.PurchaseID,
				"amount": d.Amount, "currency": d.Currency, "at": jsonTime(d.When), "state": d.State, "refused": refused})
		}
		return out
	}
	var readErr any
	if b.Err != "" {
		readErr = b.Err
	}
	return map[string]any{"whop_read": b.Err == "", "error": readErr, "incomplete": b.Incomplete,
		"matched": b.Matched, "clean": b.Clean(), "whop_only": diffs(b.WhopOnly), "ours_only": diffs(b.OursOnly)}
}

// reportsJSON says where the figures were read and how far behind that
// was; stale_seconds is set when the page would say so.
func reportsJSON(d billing.Dashboard) map[string]any {
	out := map[string]any{"served_by": d.Reports.Source, "lag_seconds": d.Reports.Lag.Seconds(), "stale_seconds": nil}
	if lag := d.StaleBy(); lag > 0 {
		out["stale_seconds"] = int64(lag / time.Second)
	}
	return out
}
