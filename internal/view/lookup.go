package view

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
)

// Payment formats a looked-up payment, field by field. A field the
// API generation does not report says so instead of showing a blank.
func Payment(look billing.PaymentLookup, companyID string) component.PaymentProps {
	p := look.Payment
	cur := string(p.Currency)
	status := string(p.Status)
	if !look.Unreported[whop.FieldSubstatus] && p.Substatus != "" {
		status += " · " + strings.ReplaceAll(string(p.Substatus), "_", " ")
	}
	tone := "ok"
	switch {
	case !p.IsPaid():
		tone = "warn"
	case look.RefundState != billing.RefundNone || p.IsDisputed():
		tone = "danger"
	}
	out := component.PaymentProps{ID: p.ID, API: string(p.API), Status: component.BadgeProps{Label: status, Tone: tone, TestID: "payment-status"}}
	add := func(field, label, value string) {
		f := component.PaymentField{Label: label, Value: value, TestID: "payment-" + field}
		if look.Unreported[field] {
			f.Value, f.Missing = "not reported by "+string(p.API), true
		} else if value == "" {
			f.Value = "—"
		}
		out.Fields = append(out.Fields, f)
	}
	add(whop.FieldSubstatus, "Substatus", string(p.Substatus))
	add("total", "Charged", FormatMoney(p.Total, cur))
	add("subtotal", "Subtotal", FormatMoney(p.Subtotal, cur))
	add(whop.FieldNet, "After Whop's fees", FormatMoney(p.AmountAfterFees, cur))
	add(whop.FieldUSDTotal, "In USD", FormatMoney(p.USDTotal, "usd"))
	add("refund_state", "Refunds", refundText(look))
	add(whop.FieldRefundable, "Refundable (Whop)", yesNo(p.Refundable))
	add("card", "Card", strings.TrimSpace(p.CardBrand+" •••• "+p.CardLast4))
	add(whop.FieldPaymentMethodType, "Method", p.PaymentMethodType)
	add(whop.FieldBillingReason, "Billing reason", strings.ReplaceAll(p.BillingReason, "_", " "))
	add("user", "User", p.UserID)
	add(whop.FieldUsername, "Username", at(p.Username))
	add("email", "Email", p.UserEmail)
	add("membership", "Membership", p.MembershipID)
	add(whop.FieldMembershipStatus, "Membership status", string(p.MembershipStatus))
	add("plan", "Plan", p.PlanID)
	add("checkout", "Checkout configuration", p.CheckoutConfigurationID)
	add("company", "Received by", p.CompanyID)
	add("created_at", "Created", formatTime(p.CreatedAt))
	add(whop.FieldUpdatedAt, "Updated", formatTime(p.UpdatedAt))
	add("paid_at", "Paid", formatTime(p.PaidAt))
	add("refunded_at", "Refunded", formatTime(p.RefundedAt))
	add("disputes", "Disputes", disputesText(look))
	if look.Share != nil {
		sh := look.Share
		add("revenue_share", "Revenue share", shareText(sh))
	}
	switch pur := look.Purchase; {
	case pur != nil:
		out.Purchase = "Credit purchase " + pur.ID + ": " + FormatCount(pur.Credits) + " credits (" + pur.PackageID +
			") in " + pur.ExperienceID + ", " + string(pur.Status) + "."
	case len(look.Refusals) > 0:
		// Its purchase is another payment's (a buyer who paid twice), or
		// one the app has no record of: the payment still names it, and
		// the app saw it and refused it.
		out.Purchase = "A payment naming credit purchase " + look.Refusals[0].PurchaseID + "."
	default:
		out.Purchase = "Not a Creditkit credit purchase."
	}
	if len(look.Refusals) > 0 {
		out.Purchase += " Not credited: " + refusalReasons(look.Refusals) + "."
	}
	if len(look.Attempts) > 0 {
		out.Attempts = "Payments of the purchase that did not pay it, newest first: " + attemptsText(look.Attempts) + "."
	}
	if look.CanRefund {
		out.RefundURL = DashboardURL(companyID) + "/payments/" + url.PathEscape(p.ID) + "/refund"
	}
	if look.OwnerRefunds {
		out.RefundNote = "Refunds are made by the app owner's admins: the owner's company received this payment."
	}
	return out
}

// shareText is a payment's revenue share in one line: its amount, to whom,
// where it stands, and what refunds before the transfer took off it.
func shareText(sh *ledger.RevenueShare) string {
	out := FormatMoney(sh.Amount, sh.Currency) + " to " + sh.ToCompanyID + ", " + string(sh.Status)
	switch w := sh.Withheld(); {
	case sh.Status == ledger.TransferCancelled:
		return out + ": refunded in full before the transfer, nothing sent"
	case w > 0:
		return out + " (" + FormatMoney(sh.Amount-w, sh.Currency) + " after refunds)"
	}
	return out
}

// attemptsText is the kept state of each payment of a purchase that did
// not pay it, newest first, in one line: which is under way since when,
// which failed or was refused when, and why.
func attemptsText(as []ledger.PaymentAttempt) string {
	parts := make([]string, len(as))
	for i, a := range as {
		when := formatTime(a.At)
		switch {
		case a.Status == string(ledger.PurchaseProcessing) && when != "":
			parts[i] = a.PaymentID + " processing since " + when
		case when != "":
			parts[i] = a.PaymentID + " " + a.Status + " " + when
		default:
			parts[i] = a.PaymentID + " " + a.Status
		}
		if r := strings.TrimSuffix(strings.TrimSpace(a.Reason), "."); r != "" {
			parts[i] += ": " + r
		}
	}
	return strings.Join(parts, "; ")
}

func refundText(look billing.PaymentLookup) string {
	p := look.Payment
	switch look.RefundState {
	case billing.RefundFull:
		return "refunded in full (" + FormatMoney(p.RefundedAmount, string(p.Currency)) + ")"
	case billing.RefundPartial:
		return FormatMoney(p.RefundedAmount, string(p.Currency)) + " of " + FormatMoney(p.Total, string(p.Currency)) + " refunded"
	}
	return "none"
}

func disputesText(look billing.PaymentLookup) string {
	if len(look.Disputes) == 0 {
		return "none"
	}
	parts := make([]string, len(look.Disputes))
	for i, d := range look.Disputes {
		parts[i] = FormatMoney(d.Amount, d.Currency) + " " + strings.ReplaceAll(d.Status, "_", " ")
	}
	return strings.Join(parts, "; ")
}

// Refund is the refund confirmation page's model; key is the form's
// idempotency key.
func Refund(l layout.Props, look billing.PaymentLookup, companyID, amount, key, errMsg string) page.RefundView {
	p := look.Payment
	cur := string(p.Currency)
	v := page.RefundView{Layout: l, PaymentID: p.ID, Member: p.UserID,
		Paid: FormatMoney(p.Total, cur), Left: FormatMoney(p.Total-p.RefundedAmount, cur), Currency: strings.ToUpper(cur),
		Amount: amount, Key: key, Error: errMsg,
		Action:  DashboardURL(companyID) + "/payments/" + url.PathEscape(p.ID) + "/refund",
		BackURL: DashboardURL(companyID) + "?payment=" + url.QueryEscape(p.ID) + "#lookup"}
	if p.Username != "" {
		v.Member = at(p.Username) + " (" + p.UserID + ")"
	}
	if p.RefundedAmount > 0 {
		v.Refunded = FormatMoney(p.RefundedAmount, cur)
	}
	if pur := look.Purchase; pur != nil {
		v.Credits = "Up to " + FormatCount(pur.Credits) + " credits are taken back, in proportion to the amount refunded (rounded up). The balance may go below zero."
	} else {
		v.Credits = "Not a credit purchase: no credits change."
	}
	return v
}

func at(username string) string {
	if username == "" {
		return ""
	}
	return "@" + username
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Jan 2, 2006 15:04:05") + " UTC"
}

// jsonTime is a time for the API, to the second (the legacy APIs' unit),
// or null when unknown.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := t.UTC().Truncate(time.Second).Format(time.RFC3339)
	return &v
}

// refusalReasons are the distinct reasons a payment was refused, in the
// order they were first given, joined for a sentence.
func refusalReasons(rs []ledger.Rejection) string {
	var reasons []string
	for _, r := range rs {
		if !slices.Contains(reasons, r.Reason) {
			reasons = append(reasons, r.Reason)
		}
	}
	return strings.Join(reasons, "; ")
}
