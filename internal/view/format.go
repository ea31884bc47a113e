package view

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/web/component"
)

// FormatCount writes n with thousands separators: 12,500, and a negative n
// (a balance a refund took below zero) with a true minus sign, −5, as
// SignedCount writes a change beside it. For display only: exports write
// plain integers.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	if len(s) > 3 {
		out := make([]byte, 0, len(s)+len(s)/3)
		pre := len(s) % 3
		if pre > 0 {
			out = append(out, s[:pre]...)
		}
		for i := pre; i < len(s); i += 3 {
			if len(out) > 0 {
				out = append(out, ',')
			}
			out = append(out, s[i:i+3]...)
		}
		s = string(out)
	}
	if neg {
		return "−" + s
	}
	return s
}

// FormatWhen is a moment in a list: month, day and time, UTC.
func FormatWhen(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	// Appended into one buffer: a receipt row is two of these, and
	// Format plus " UTC" made two strings of each.
	var buf [32]byte
	b := t.UTC().AppendFormat(buf[:0], "Jan 2, 15:04")
	return string(append(b, " UTC"...))
}

// FormatMoney writes minor units of cur as money: $4.99.
func FormatMoney(minor int64, cur string) string {
	return money.Amount{Minor: minor, Currency: money.Currency(cur)}.String()
}

// PerCredit is a package's price per credit, to make packages comparable:
// "4.2¢ a credit" from 0.1¢ to a dollar, else the per-credit amount in the
// currency to two significant digits ("€0.042 a credit", "¥0.10 a
// credit"): the cent sign reads as a dollar's cent, and yen rounded to
// whole units would call a credit free.
func PerCredit(price, credits int64, cur money.Currency) string {
	if credits <= 0 || price <= 0 {
		return ""
	}
	// Tenths of a cent, rounded; the cent form only from 0.1¢, which it
	// can show.
	if tenths := (price*10 + credits/2) / credits; cur == money.USD && price < 100*credits && tenths > 0 {
		return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10) + "¢ a credit"
	}
	return money.PerUnit(price, credits, cur) + " a credit"
}

// purchaseBadge turns a purchase's state into what a member reads, with
// testID ("" for none).
func purchaseBadge(p ledger.Receipt, testID string) component.BadgeProps {
	b := component.BadgeProps{TestID: testID}
	switch {
	case p.Status == ledger.PurchasePaid && p.ChargedBack > 0 && p.RefundedCredits >= p.Credits:
		b.Label, b.Tone = "Charged back", "danger"
	case p.Status == ledger.PurchasePaid && p.ChargedBack > 0:
		b.Label, b.Tone = "Partly charged back", "danger"
	case p.Status == ledger.PurchasePaid && p.RefundedCredits >= p.Credits:
		b.Label, b.Tone = "Refunded", "warn"
	case p.Status == ledger.PurchasePaid && p.RefundedAmount > 0:
		b.Label, b.Tone = "Partly refunded", "warn"
	case p.Status == ledger.PurchasePaid:
		b.Label, b.Tone = "Paid", "ok"
	case p.Refused:
		// Whop holds a payment for it that the app refused, whatever
		// else was tried: "Not paid" or "Failed" would say nobody paid.
		b.Label, b.Tone = "Not credited", "danger"
	case p.Status == ledger.PurchaseProcessing:
		b.Label, b.Tone = "Processing", "accent"
	case p.Status == ledger.PurchaseFailed:
		b.Label, b.Tone = "Failed", "danger"
	default:
		b.Label = "Not paid"
	}
	return b
}

// reversedNote says how much of a payment went back to the buyer, and how:
// "$4.99 refunded", "$4.99 charged back", or "$10.00 refunded, $14.99
// charged back" (a refund, then a lost dispute); "" for nothing.
func reversedNote(p ledger.Receipt) string {
	refunded := p.RefundedAmount - p.ChargedBack
	switch {
	case p.ChargedBack > 0 && refunded > 0:
		return FormatMoney(refunded, p.Currency) + " refunded, " + FormatMoney(p.ChargedBack, p.Currency) + " charged back"
	case p.ChargedBack > 0:
		return FormatMoney(p.ChargedBack, p.Currency) + " charged back"
	case refunded > 0:
		return FormatMoney(refunded, p.Currency) + " refunded"
	}
	return ""
}

// sentence turns a reason from Whop or the ledger ("payment failed") into a
// sentence to show ("Payment failed."), or def when there is none.
func sentence(s, def string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return def
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}
