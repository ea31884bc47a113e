package view

import (
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
	"net/url"
	"strconv"
	"time"
)

// DescribeEntry says what a ledger entry was, in the member's words.
func DescribeEntry(e ledger.ActivityEntry) (what, detail string) {
	switch e.Kind {
	case ledger.KindPurchase:
		return "Bought the " + orWord(e.PackageID, "credit") + " package", ""
	case ledger.KindSpend:
		return "Spent on " + orWord(e.ItemName, e.ItemID), ""
	case ledger.KindRefund:
		if !e.PeriodStart.IsZero() { // a premium period's payment, not a purchase
			period := "For the period from " + e.PeriodStart.UTC().Format("Jan 2, 2006")
			if e.DisputeLost {
				return "Premium credits taken back: the payment was charged back", period + ". The payment was disputed and the dispute went to the buyer."
			}
			return "Premium credits taken back: the payment was refunded", period
		}
		if e.DisputeLost {
			return "Taken back: the " + orWord(e.PackageID, "credit") + " purchase was charged back", "The payment was disputed and the dispute went to the buyer."
		}
		return "Taken back: the " + orWord(e.PackageID, "credit") + " purchase was refunded", ""
	case ledger.KindGrant:
		if g := e.Grant; g != nil {
			switch {
			case !g.ExpiredAt.IsZero():
				return "Granted: " + g.Reason, "Expired " + formatMoment(g.ExpiresAt)
			case !g.ExpiresAt.IsZero():
				return "Granted: " + g.Reason, "Expires " + formatMoment(g.ExpiresAt)
			}
			return "Granted: " + g.Reason, "Does not expire"
		}
		if !e.PeriodStart.IsZero() {
			return "Premium credits", "For the period from " + e.PeriodStart.UTC().Format("Jan 2, 2006")
		}
		return "Premium credits", ""
	case ledger.KindExpiry:
		if g := e.Grant; g != nil {
			return "Expired: " + g.Reason, "The unspent part of the credits granted " + formatMoment(g.CreatedAt)
		}
		return "Granted credits expired", ""
	}
	return "Adjustment", ""
}

// GrantedLine says how much of balance grants hold and when the next of
// those credits expire. A refund takes back only bought credits, so it can
// leave the bought part below zero while grants still hold some: then the
// balance does not "include" them, and the line says what it would be
// without them, since they still expire.
func GrantedLine(balance int64, g ledger.GrantedCredits) string {
	if g.Credits <= 0 {
		return ""
	}
	line := "Includes " + Plural(g.Credits, "granted credit") + ", spent before the ones you bought"
	if balance < g.Credits {
		line = "Counts " + Plural(g.Credits, "granted credit") + ": a refund or chargeback took back more credits than you had left, so without them it would be " +
			FormatCount(balance-g.Credits)
	}
	if !g.NextExpiry.IsZero() {
		line += "; " + FormatCount(g.NextExpiring) + " expire " + formatMoment(g.NextExpiry)
	}
	return line + "."
}

// formatMoment is a day and time with its year, for expiries that may be
// months away.
func formatMoment(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 15:04") + " UTC" }

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// SignedCount writes a change of credits with its sign: +100, −5 (a true
// minus sign, which screen readers read as minus).
func SignedCount(n int64) string {
	if n < 0 {
		return FormatCount(n) // its true minus sign; -n would overflow at the smallest int64
	}
	return "+" + FormatCount(n)
}

// ExperienceURL is an experience's page.
func ExperienceURL(id string) string { return "/experiences/" + url.PathEscape(id) }

// Activity is a member's activity page: a page of entries from before
// (0: the newest), with links to newer and older pages.
func Activity(l layout.Props, expID string, before int64, p ledger.ActivityPage) page.ActivityView {
	self := ExperienceURL(expID) + "/activity"
	v := page.ActivityView{
		Layout:  l,
		BackURL: ExperienceURL(expID),
		Balance: component.BalanceProps{Credits: FormatCount(p.Balance), Negative: p.Balance < 0},
		Granted: GrantedLine(p.Balance, p.Granted),
		CSVURL:  self + ".csv",
	}
	if before != 0 {
		v.NewestURL = self
	}
	if p.Before != 0 {
		v.OlderURL = self + "?before=" + strconv.FormatInt(p.Before, 10)
	}
	for _, e := range p.Entries {
		what, detail := DescribeEntry(e)
		row := page.ActivityRow{ID: strconv.FormatInt(e.ID, 10), When: FormatWhen(e.CreatedAt), What: what, Detail: detail,
			Amount: SignedCount(e.Amount), Tone: "out", BalAfter: FormatCount(e.BalanceAfter)}
		if e.Amount > 0 {
			row.Tone = "in"
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}
