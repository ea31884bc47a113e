package view

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
)

// Dashboard formats a dashboard for the page. q is the page's query:
// it carries the notice of the action that redirected here.
func Dashboard(d billing.Dashboard, l layout.Props, self string, q url.Values) page.DashboardView {
	cur := string(d.Currency)
	v := page.DashboardView{Layout: l, CompanyID: d.CompanyID, Title: d.CompanyTitle, Role: "Creator",
		Lookup:  page.LookupSection{Action: self},
		Revenue: revenueSection(d.Revenue)}
	if v.Title == "" {
		v.Title = d.CompanyID
	}
	if d.IsOwner {
		v.Role = "App owner"
	}
	t := d.Revenue.Totals
	v.Summary = []page.Stat{
		{Label: "Taken", Value: FormatMoney(t.Gross, cur), Detail: Plural(t.Sales, "sale") + " in 30 days", TestID: "stat-gross"},
		{Label: "Refunded", Value: FormatMoney(t.Refunded, cur), Detail: Plural(t.RefundedCredits, "credit") + " taken back", TestID: "stat-refunded"},
		{Label: "Net", Value: FormatMoney(t.Net(), cur), Detail: "after refunds", TestID: "stat-net"},
		{Label: "Credits sold", Value: FormatCount(t.Credits), Detail: "in your experiences", TestID: "stat-credits"},
		{Label: "Disputes", Value: FormatCount(t.Disputes), Detail: FormatMoney(t.Disputed, cur) + " disputed", TestID: "stat-disputes"},
	}
	if d.IsOwner {
		v.Summary[0].Detail = Plural(t.Sales, "sale") + " in " + companies(d.Overview.Selling()) + ", 30 days"
		v.Summary[3].Detail = "in every installing company's experiences"
		v.App = appSection(d)
	}
	v.Grants = grantsSection(d, self)
	v.Export = page.ExportSection{Action: self + "/export.csv", From: d.Revenue.From.Format("2006-01-02"),
		To: d.Revenue.To.Format("2006-01-02")}
	v.Shares = sharesSection(d)
	for _, p := range d.Receipts {
		// The Paid column is what Whop's payment paid: nothing for a
		// purchase no payment paid (failed, or never paid: a closed
		// checkout, or a payment refused, which the app owner's books
		// count). A refused payment is named, so it can be looked up
		// (and refunded by the app owner).
		r := page.DashboardReceipt{ID: p.ID, When: FormatWhen(p.CreatedAt), Member: memberName(p.Purchase), Package: p.PackageID,
			Credits: FormatCount(p.Credits) + " credits", Amount: "—",
			PaymentID: p.PaymentID, Status: purchaseBadge(p.Receipt(), "status-"+p.ID)}
		if p.Status == ledger.PurchasePaid {
			r.Amount = FormatMoney(p.PaidAmount, p.Currency)
		} else if p.RefusedPaymentID != "" {
			r.PaymentID = p.RefusedPaymentID
		}
		r.Refunded = reversedNote(p.Receipt())
		if r.PaymentID != "" {
			r.LookupURL = self + "?payment=" + url.QueryEscape(r.PaymentID) + "#lookup"
		}
		v.Receipts = append(v.Receipts, r)
	}
	v.Payouts = payoutsSection(d, self)
	for _, dl := range d.Deliveries {
		v.Deliveries = append(v.Deliveries, page.DeliveryRow{ID: dl.ID, Type: dl.Type, When: FormatWhen(dl.ReceivedAt),
			Object: dl.ObjectID, Outcome: dl.Outcome, Scheme: dl.Scheme, Tone: outcomeTone(dl.Outcome)})
	}
	v.Notice = notice(d, q)
	if lag := d.StaleBy(); lag > 0 {
		v.Staleness = "These figures come from a read replica that is " + formatLag(lag) +
			" behind: the newest sales, payouts and webhook deliveries may not show yet."
	}
	return v
}

// formatLag says a replica's lag in whole seconds, minutes or hours.
func formatLag(d time.Duration) string {
	switch s := int64(d / time.Second); {
	case s < 120:
		return strconv.FormatInt(s, 10) + " s"
	case s < 2*3600:
		return strconv.FormatInt(s/60, 10) + " min"
	default:
		return strconv.FormatInt(s/3600, 10) + " h " + strconv.FormatInt(s%3600/60, 10) + " min"
	}
}

func revenueSection(rep ledger.RevenueReport) page.RevenueSection {
	s := page.RevenueSection{Window: "Last " + strconv.Itoa(len(rep.Days)) + " days, UTC", Chart: revenueChart(rep)}
	row := func(label, id string, f ledger.RevenueFigures) page.RevenueRow {
		r := page.RevenueRow{Label: label, Sales: FormatCount(f.Sales), Credits: FormatCount(f.Credits),
			Gross: FormatMoney(f.Gross, rep.Currency), Refunded: FormatMoney(f.Refunded, rep.Currency),
			Net: FormatMoney(f.Net(), rep.Currency), TestID: id}
		r.Disputes = "—"
		if f.Disputes > 0 {
			r.Disputes = FormatCount(f.Disputes) + " · " + FormatMoney(f.Disputed, rep.Currency)
		}
		return r
	}
	for i := len(rep.Days) - 1; i >= 0; i-- { // newest first; quiet days are in the chart
		if d := rep.Days[i]; d.Sales > 0 {
			s.Days = append(s.Days, row(formatDay(d.Day), "day-"+d.Day.Format("2006-01-02"), d.RevenueFigures))
		}
	}
	for _, p := range rep.Packages {
		s.Packages = append(s.Packages, row(p.PackageID, "package-"+p.PackageID, p.RevenueFigures))
	}
	return s
}

func sharesSection(d billing.Dashboard) page.SharesSection {
	cur := string(d.Currency)
	pct := percent(d.ShareBasisPoints)
	s := page.SharesSection{Enabled: d.ShareBasisPoints > 0}
	if d.ShareSide == ledger.SharesPaidBy {
		s.Heading = "Revenue shared with creators"
		s.Intro = pct + " of each credit sale made in a creator's experience is transferred from your balance to that creator's company, once per payment. A refund before the transfer is taken off it (a sale refunded in full shares nothing); a refund after it is recorded against the share."
	} else {
		s.Heading = "Revenue share received"
		s.Intro = "You receive " + pct + " of each credit sale made in your experiences, from the app's owner, once per payment. A refund before the transfer is taken off your share (a sale refunded in full shares nothing); a refund after it is recorded against your share."
	}
	sum := d.ShareSummary
	s.Totals = []page.Stat{
		{Label: "Paid", Value: FormatMoney(sum.Paid, cur), Detail: Plural(sum.PaidCount, "sale"), TestID: "shares-paid"},
		{Label: "Pending", Value: FormatMoney(sum.Pending, cur), Detail: "retried until Whop pays", TestID: "shares-pending"},
		{Label: "Refunded against shares", Value: FormatMoney(sum.Clawback, cur), Detail: Plural(sum.RefundedShares, "refunded sale"), TestID: "shares-clawback"},
	}
	if sum.Withheld > 0 {
		s.Totals = append(s.Totals, page.Stat{Label: "Kept back for refunds", Value: FormatMoney(sum.Withheld, cur),
			Detail: "refunded before the transfer; " + Plural(sum.Cancelled, "share") + " cancelled", TestID: "shares-withheld"})
	}
	if sum.Failed > 0 {
		s.Totals = append(s.Totals, page.Stat{Label: "Refused by Whop", Value: FormatMoney(sum.Failed, cur), TestID: "shares-failed"})
	}
	for _, sh := range d.Shares {
		r := page.ShareRow{PaymentID: sh.PaymentID, When: FormatWhen(sh.CreatedAt), Company: sh.ToCompanyID,
			Sale: "sale of " + FormatMoney(sh.BaseAmount, sh.Currency), Amount: FormatMoney(sh.Amount, sh.Currency),
			Clawback: shareRefunds(sh), Status: transferBadge(sh.Status, "share-status-"+sh.PaymentID), TestID: "share-" + sh.PaymentID}
		if d.ShareSide == ledger.SharesPaidTo {
			r.Company = sh.FromCompanyID
		}
		if w := sh.Withheld(); w > 0 {
			r.Amount = FormatMoney(sh.Amount-w, sh.Currency) + " of " + r.Amount
		}
		r.Detail = transferDetail(sh.Status, sh.TransferID, sh.LastError, sh.Attempts)
		s.Rows = append(s.Rows, r)
	}
	return s
}

// shareRefunds says what refunds did to a share: the part kept back
// because the refund came before the transfer, and the part recorded
// against it because the refund came after.
func shareRefunds(sh ledger.RevenueShare) string {
	var parts []string
	if w := sh.Withheld(); w > 0 {
		parts = append(parts, FormatMoney(w, sh.Currency)+" kept back")
	}
	if c := sh.ClawbackAfterTransfer(); c > 0 {
		parts = append(parts, FormatMoney(c, sh.Currency)+" of it")
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ") + " (refund " + FormatMoney(sh.RefundedAmount, sh.Currency) + ")"
}

func payoutsSection(d billing.Dashboard, self string) page.PayoutsSection {
	cur := string(d.Currency)
	// The fragment goes with the form's POST: a refusal's page opens at
	// the form and its reason, not at the top of a long page.
	s := page.PayoutsSection{Action: self + "/payouts#payouts",
		Form: page.PayoutForm{Currency: strings.ToUpper(cur), MaxNotes: strconv.Itoa(billing.MaxPayoutNotes)}}
	if d.AccountErr != nil {
		s.BalanceError = "Whop did not report your balance just now. A payout is still checked against it when you send it."
	} else {
		s.Balance, s.Fee = FormatMoney(d.Account.Balance, cur), FormatMoney(d.Account.Fee, string(d.Account.FeeCurrency))
		if d.Account.Pending > 0 {
			s.Pending = FormatMoney(d.Account.Pending, cur) + " pending"
		}
	}
	for _, p := range d.Payouts {
		r := page.PayoutRow{ID: p.ID, When: FormatWhen(p.CreatedAt), Recipient: recipient(p), Notes: p.Notes,
			Amount: FormatMoney(p.Amount, p.Currency), Fee: FormatMoney(p.Fee, p.Currency),
			Status: transferBadge(p.Status, "payout-status-"+p.ID), Transfer: p.TransferID,
			Detail: transferDetail(p.Status, p.TransferID, p.LastError, p.Attempts)}
		if p.Status == ledger.TransferPaid {
			r.Fee = FormatMoney(p.ChargedFee, p.Currency)
		}
		s.History = append(s.History, r)
	}
	return s
}

func recipient(p ledger.Payout) string {
	if p.RecipientUsername != "" {
		return "@" + p.RecipientUsername
	}
	return p.RecipientID
}

func transferBadge(st ledger.TransferStatus, testID string) component.BadgeProps {
	b := component.BadgeProps{TestID: testID}
	switch st {
	case ledger.TransferPaid:
		b.Label, b.Tone = "Paid", "ok"
	case ledger.TransferFailed:
		b.Label, b.Tone = "Failed", "danger"
	case ledger.TransferCancelled:
		b.Label = "Cancelled"
	default:
		b.Label, b.Tone = "Pending", "accent"
	}
	return b
}

// transferDetail says what is known about a transfer: Whop's id once paid,
// else the last error and that it will be retried (or was refused).
func transferDetail(st ledger.TransferStatus, transferID, lastError string, attempts int) string {
	switch {
	case st == ledger.TransferPaid:
		return transferID
	case st == ledger.TransferFailed:
		return "Whop refused: " + lastError
	case st == ledger.TransferCancelled:
		return "refunded in full before the transfer; nothing sent"
	case attempts == 0:
		return "sending"
	}
	return "retrying after " + Plural(int64(attempts), "attempt") + ": " + lastError
}

// outcomeTone colours a delivery's outcome: green when it credited, amber
// when it took credits back or concerns a dispute, red when a payment or
// the delivery itself was refused, or the delivery never finished.
func outcomeTone(outcome string) string {
	switch {
	case strings.HasPrefix(outcome, "rejected"), strings.HasPrefix(outcome, "refused"), outcome == "processing":
		return "danger"
	case strings.Contains(outcome, "took back"), strings.HasPrefix(outcome, "dispute"):
		return "warn"
	case strings.HasPrefix(outcome, "fulfilled"), strings.HasPrefix(outcome, "credited"):
		return "ok"
	}
	return ""
}

// notice says what the action that redirected here did.
func notice(d billing.Dashboard, q url.Values) page.Notice {
	if id := q.Get("grant"); id != "" {
		return grantNotice(d, id)
	}
	if q.Get("notice") == "refunded" {
		return page.Notice{Kind: "ok", Text: "Refund of " + q.Get("payment") + " sent to Whop. Any credits it bought are taken back when Whop confirms it."}
	}
	id := q.Get("payout")
	for _, p := range d.Payouts {
		if p.ID != id || id == "" {
			continue
		}
		amount := FormatMoney(p.Amount, p.Currency)
		switch p.Status {
		case ledger.TransferPaid:
			return page.Notice{Kind: "ok", Text: "Sent " + amount + " to " + recipient(p) + "."}
		case ledger.TransferFailed:
			return page.Notice{Kind: "error", Text: "Whop refused the payout of " + amount + " to " + recipient(p) + ": " + p.LastError}
		}
		return page.Notice{Kind: "info", Text: "Whop has not confirmed the payout of " + amount + " to " + recipient(p) +
			" yet. It is recorded and retried automatically, and it is never paid twice."}
	}
	return page.Notice{}
}

// percent writes basis points as a percentage: 1250 is "12.5%".
func percent(bp int64) string {
	s := strconv.FormatInt(bp/100, 10)
	if frac := bp % 100; frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(100+frac, 10)[1:], "0")
	}
	return s + "%"
}

func formatDay(t time.Time) string { return t.UTC().Format("Jan 2") }

// memberName names a purchase's buyer as Whop shows them, @username, once
// a payment of theirs has said it; until then, by user id.
func memberName(p ledger.Purchase) string {
	if p.BuyerUsername != "" {
		return "@" + p.BuyerUsername
	}
	return p.UserID
}

// DashboardURL is a company's dashboard.
func DashboardURL(companyID string) string { return "/dashboard/" + url.PathEscape(companyID) }
