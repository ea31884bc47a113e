package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// activity is a member's history in an experience: their wallet's ledger,
// newest first, 25 entries a page; ?before= names the entry the page
// starts below.
func (s *Server) activity(w http.ResponseWriter, r *http.Request) {
	expID := chi.URLParam(r, "experienceId")
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			s.fail(w, r, newError(http.StatusBadRequest, "invalid_before", "before must be the number of an entry of your activity."))
			return
		}
		before = n
	}
	p, err := s.billing.Activity(r.Context(), userID(r.Context()), expID, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	self := experienceURL(expID) + "/activity"
	v := page.ActivityView{
		Layout:  s.layoutProps("Activity"),
		BackURL: experienceURL(expID),
		Balance: component.BalanceProps{Credits: formatCount(p.Balance), Negative: p.Balance < 0},
		Granted: grantedLine(p.Granted),
		CSVURL:  self + ".csv",
	}
	if before != 0 {
		v.NewestURL = self
	}
	if p.Before != 0 {
		v.OlderURL = self + "?before=" + strconv.FormatInt(p.Before, 10)
	}
	for _, e := range p.Entries {
		what, detail := describeEntry(e)
		row := page.ActivityRow{ID: strconv.FormatInt(e.ID, 10), When: formatWhen(e.CreatedAt), What: what, Detail: detail,
			Amount: signedCount(e.Amount), Tone: "out", BalAfter: formatCount(e.BalanceAfter)}
		if e.Amount > 0 {
			row.Tone = "in"
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, http.StatusOK, page.Activity(v))
}

// describeEntry says what a ledger entry was, in the member's words.
func describeEntry(e ledger.ActivityEntry) (what, detail string) {
	switch e.Kind {
	case ledger.KindPurchase:
		return "Bought the " + orWord(e.PackageID, "credit") + " package", ""
	case ledger.KindSpend:
		return "Spent on " + orWord(e.ItemName, e.ItemID), ""
	case ledger.KindRefund:
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

// grantedLine says how much of the balance grants hold and when the next
// of those credits expire.
func grantedLine(g ledger.GrantedCredits) string {
	if g.Credits <= 0 {
		return ""
	}
	line := "Includes " + plural(g.Credits, "granted credit") + ", spent before the ones you bought"
	if !g.NextExpiry.IsZero() {
		line += "; " + formatCount(g.NextExpiring) + " expire " + formatMoment(g.NextExpiry)
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

// signedCount writes a change of credits with its sign: +100, −5 (a true
// minus sign, which screen readers read as minus).
func signedCount(n int64) string {
	if n < 0 {
		return "−" + formatCount(-n)
	}
	return "+" + formatCount(n)
}

func experienceURL(id string) string { return "/experiences/" + url.PathEscape(id) }
