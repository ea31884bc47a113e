package view

import (
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

func DashboardJSON(d billing.Dashboard) map[string]any {
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
		latestGrants = append(latestGrants, GrantJSON(g))
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

func PaymentJSON(look billing.PaymentLookup) map[string]any {
	p := look.Payment
	out := map[string]any{
		"id": p.ID, "api": p.API, "status": p.Status,
		"substatus":    reported(look, whop.FieldSubstatus, p.Substatus),
		"currency":     p.Currency,
		"refund_state": look.RefundState, "can_refund": look.CanRefund,
		"refundable": reported(look, whop.FieldRefundable, p.Refundable),
		"amounts": map[string]any{
			"subtotal": p.Subtotal, "total": p.Total, "refunded": p.RefundedAmount,
			"after_fees": reported(look, whop.FieldNet, p.AmountAfterFees),
			"usd_total":  reported(look, whop.FieldUSDTotal, p.USDTotal),
		},
		"card":                map[string]any{"brand": p.CardBrand, "last4": p.CardLast4},
		"payment_method_type": reported(look, whop.FieldPaymentMethodType, p.PaymentMethodType),
		"billing_reason":      reported(look, whop.FieldBillingReason, p.BillingReason),
		"user": map[string]any{"id": p.UserID, "email": p.UserEmail,
			"username": reported(look, whop.FieldUsername, p.Username)},
		"membership": map[string]any{"id": p.MembershipID,
			"status": reported(look, whop.FieldMembershipStatus, p.MembershipStatus)},
		"plan_id": p.PlanID, "product_id": p.ProductID, "company_id": p.CompanyID,
		"checkout_configuration_id": p.CheckoutConfigurationID,
		"created_at":                jsonTime(p.CreatedAt), "paid_at": jsonTime(p.PaidAt), "refunded_at": jsonTime(p.RefundedAt),
		"updated_at":      reported(look, whop.FieldUpdatedAt, jsonTime(p.UpdatedAt)),
		"failure_message": p.FailureMessage,
		"purchase":        nil, "revenue_share": nil,
	}
	if pur := look.Purchase; pur != nil {
		out["purchase"] = map[string]any{"id": pur.ID, "experience_id": pur.ExperienceID, "company_id": pur.CompanyID,
			"user_id": pur.UserID, "package": pur.PackageID, "credits": pur.Credits, "price": pur.Price,
			"status": pur.Status, "refunded_credits": pur.RefundedCredits}
	}
	if sh := look.Share; sh != nil {
		var sent any // the transfer's amount, once decided
		if sh.TransferAmount > 0 {
			sent = sh.TransferAmount
		}
		out["revenue_share"] = map[string]any{"amount": sh.Amount, "to_company_id": sh.ToCompanyID,
			"status": sh.Status, "transfer_id": sh.TransferID, "transfer_amount": sent,
			"withheld": sh.Withheld(), "clawback": sh.Clawback}
	}
	disputes := []map[string]any{}
	for _, d := range look.Disputes {
		disputes = append(disputes, map[string]any{"id": d.ID, "amount": d.Amount, "status": d.Status, "reason": d.Reason})
	}
	out["disputes"] = disputes
	return out
}

func PayoutJSON(p ledger.Payout) map[string]any {
	return map[string]any{
		"id": p.ID, "company_id": p.CompanyID, "status": p.Status,
		"recipient": map[string]any{"input": p.RecipientInput, "id": p.RecipientID, "username": p.RecipientUsername},
		"amount":    p.Amount, "currency": p.Currency, "fee": p.Fee, "charged_fee": p.ChargedFee, "notes": p.Notes,
		"ledger_account_id": p.LedgerAccountID, "transfer_id": p.TransferID, "attempts": p.Attempts,
		"last_error": p.LastError, "idempotency_key": p.IdempotencyKey,
		"created_at": jsonTime(p.CreatedAt), "finished_at": jsonTime(p.FinishedAt),
	}
}
