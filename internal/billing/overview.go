package billing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// Bounds of the books-vs-Whop comparison, which lists payments from Whop
// on every load of the owner's dashboard: it must stay quick, and a Whop
// that does not answer only costs that one line.
const (
	booksTimeout  = 5 * time.Second
	booksPageSize = 100
	booksMaxPages = 10
	// booksLookups is how many payments in our books only are looked up
	// one by one (paidBeforeTheList).
	booksLookups = 20
	// booksMargin widens Whop's list before the period, so a payment made
	// just before it and fulfilled inside it (a late webhook, the
	// reconciler) is found on both sides.
	booksMargin = 72 * time.Hour
	// companyNames bounds how many installing companies' names are asked
	// of Whop for one page; the rest show their ids.
	companyNames = 25
)

// AppOverview is the app owner's view of the whole app over the
// dashboard's period: every installing company's sales, the revenue shares
// paid for them, what is left to the owner, and our books against Whop's.
type AppOverview struct {
	From, To  time.Time
	Companies []InstallingCompany
	// Shares are the shares of the period's sales.
	Shares ledger.ShareSummary
	// Net is what the period's sales left the owner: taken, less refunds,
	// less the shares paid and pending. Whop's own fees are not in our books.
	Net   int64
	Books BooksCheck
}

// Selling is how many installing companies made a sale in the period (the
// table also lists those whose sales are all older).
func (o *AppOverview) Selling() int {
	n := 0
	for _, c := range o.Companies {
		if c.Sales > 0 {
			n++
		}
	}
	return n
}

// InstallingCompany is a company that sold credits in its experiences.
type InstallingCompany struct {
	ledger.CompanyRevenue
	Title string // "" when Whop did not say
}

// BooksCheck compares the credit payments Whop lists for the owner's
// company with the purchases we fulfilled: a payment on one side only is a
// webhook that never came (and the reconciler has not run since), or a
// payment we credited that Whop does not list.
type BooksCheck struct {
	// Err says why Whop's list could not be read; the rest is then empty.
	Err string
	// Incomplete is set when Whop listed more than the comparison reads.
	Incomplete bool
	// Matched is how many of the period's payments are on both sides.
	Matched int
	// WhopOnly are paid credit payments Whop lists that our books have not
	// fulfilled; OursOnly are fulfilled purchases Whop does not list.
	WhopOnly []BooksDifference
	OursOnly []BooksDifference
}

// Clean reports whether Whop was read whole and both sides agree.
func (b BooksCheck) Clean() bool {
	return b.Err == "" && !b.Incomplete && len(b.WhopOnly) == 0 && len(b.OursOnly) == 0
}

// BooksDifference is one payment found on one side only.
type BooksDifference struct {
	PaymentID  string
	PurchaseID string
	Amount     int64
	Currency   money.Currency
	When       time.Time
	// State is our purchase's state for a Whop-only payment ("pending",
	// "failed: …", or "unknown" when no purchase of ours has its id).
	State string
	// Refused is why we refused to fulfil a Whop-only payment, when we
	// did: no webhook was lost, and no reconciler run will credit it.
	Refused string
}

// appOverview reads the owner's view from st. The Whop calls that
// complete it (the companies' names, the books against Whop's payments)
// are the caller's to make afterwards, with no transaction open, each
// bounded.
func (s *core) appOverview(ctx context.Context, st *ledger.Store, from, to time.Time, revenue ledger.RevenueReport) (AppOverview, error) {
	o := AppOverview{From: from, To: to}
	cur := string(s.cfg.Currency)
	rows, err := st.CompanyRevenues(ctx, cur, from)
	if err != nil {
		return o, err
	}
	if o.Shares, err = st.ShareTotalsSince(ctx, s.cfg.CompanyID, cur, from); err != nil {
		return o, err
	}
	t := revenue.Totals
	o.Net = t.Gross - t.Refunded - o.Shares.Paid - o.Shares.Pending
	o.Companies = make([]InstallingCompany, len(rows))
	for i, r := range rows {
		o.Companies[i] = InstallingCompany{CompanyRevenue: r}
	}
	return o, nil
}

// paidBeforeTheList asks Whop for each payment our books have and its list
// did not: one credited in the period but created before the list's start
// (a dispute or a slow bank payment can take weeks), which Whop has paid, is
// on both sides, and counted in matched. The rest are returned: Whop does
// not hold them as paid, or could not be asked (then they are listed, as
// before). At most booksLookups are asked, at once, within the deadline.
func (s *core) paidBeforeTheList(ctx context.Context, ours []BooksDifference, matched *int) []BooksDifference {
	paid := make([]bool, len(ours))
	var wg sync.WaitGroup
	for i := range ours[:min(len(ours), booksLookups)] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := s.whop.GetPayment(ctx, ours[i].PaymentID)
			paid[i] = err == nil && p.IsPaid() && p.CompanyID == s.cfg.CompanyID
		}()
	}
	wg.Wait()
	var left []BooksDifference
	for i, d := range ours {
		if paid[i] {
			*matched++
			continue
		}
		left = append(left, d)
	}
	return left
}

// companyTitles asks Whop for the first companies' names, at once and
// within one deadline; a name Whop does not give stays "".
func (s *core) companyTitles(ctx context.Context, cs []InstallingCompany) {
	ctx, cancel := context.WithTimeout(ctx, booksTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range cs[:min(len(cs), companyNames)] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := s.whop.GetCompany(ctx, cs[i].CompanyID); err == nil {
				cs[i].Title = c.Title
			}
		}()
	}
	wg.Wait()
}

// compareBooks lists the owner company's paid credit payments created
// since from (less a margin) and matches them with our fulfilled purchases.
func (s *core) compareBooks(ctx context.Context, from time.Time) BooksCheck {
	var b BooksCheck
	wctx, cancel := context.WithTimeout(ctx, booksTimeout)
	defer cancel()
	whopSide := map[string]*whop.Payment{}
	n := 0
	for p, err := range s.whop.ListPayments(wctx, whop.ListPaymentsParams{
		CompanyID: s.cfg.CompanyID, Statuses: []whop.PaymentStatus{whop.PaymentPaid},
		CreatedAfter: from.Add(-booksMargin), Order: "created_at", Direction: "asc", PageSize: booksPageSize,
	}) {
		if err != nil {
			if p == nil {
				b.Err = err.Error()
				s.log.WarnContext(ctx, "dashboard: Whop's payments could not be listed", "error", b.Err)
				return BooksCheck{Err: b.Err}
			}
			continue // one payment that did not decode
		}
		if n++; n > booksPageSize*booksMaxPages {
			b.Incomplete = true
			break
		}
		if p.Metadata[MetaPurchaseID] != "" { // a credit purchase, not premium or another product
			whopSide[p.ID] = p
		}
	}
	var ours, earlier, pending map[string]ledger.Purchase
	var refused map[string]string
	var unmatched []string
	_, err := s.reports.Read(ctx, func(st *ledger.Store) (err error) {
		if ours, err = st.FulfilledSince(ctx, from); err != nil {
			return err
		}
		// A Whop payment of the margin (or fulfilled before the period) is
		// in our books if any purchase has its id.
		b.Matched, unmatched = 0, nil
		for id := range whopSide {
			if _, ok := ours[id]; ok {
				b.Matched++
			} else {
				unmatched = append(unmatched, id)
			}
		}
		if earlier, err = st.PurchasesByPayment(ctx, unmatched); err != nil {
			return err
		}
		var missing []string
		for _, id := range unmatched {
			if _, ok := earlier[id]; !ok {
				missing = append(missing, whopSide[id].Metadata[MetaPurchaseID])
			}
		}
		if pending, err = st.PurchasesByID(ctx, missing); err != nil {
			return err
		}
		refused, err = st.RefusalReasons(ctx, unmatched)
		return err
	})
	if err != nil {
		return BooksCheck{Err: "our books could not be read: " + err.Error()}
	}
	for _, id := range unmatched {
		if _, ok := earlier[id]; ok {
			continue
		}
		p := whopSide[id]
		d := BooksDifference{PaymentID: id, PurchaseID: p.Metadata[MetaPurchaseID], Amount: p.Total,
			Currency: p.Currency, When: p.CreatedAt, State: "unknown", Refused: refused[id]}
		if pur, ok := pending[d.PurchaseID]; ok {
			d.State = string(pur.Status)
			if pur.FailureReason != "" {
				d.State += ": " + pur.FailureReason
			}
		}
		b.WhopOnly = append(b.WhopOnly, d)
	}
	if !b.Incomplete {
		for id, pur := range ours {
			if _, ok := whopSide[id]; !ok {
				b.OursOnly = append(b.OursOnly, BooksDifference{PaymentID: id, PurchaseID: pur.ID, Amount: pur.PaidAmount,
					Currency: money.Currency(pur.Currency), When: pur.FulfilledAt, State: string(pur.Status)})
			}
		}
		// The oldest are looked up first, so a reload looks up the same.
		slices.SortFunc(b.OursOnly, func(x, y BooksDifference) int {
			return cmp.Or(x.When.Compare(y.When), strings.Compare(x.PaymentID, y.PaymentID))
		})
		b.OursOnly = s.paidBeforeTheList(wctx, b.OursOnly, &b.Matched)
	}
	byTime := func(x, y BooksDifference) int { return x.When.Compare(y.When) }
	slices.SortFunc(b.WhopOnly, byTime)
	slices.SortFunc(b.OursOnly, byTime)
	return b
}

// String summarizes the comparison in one line, as the page shows it.
func (b BooksCheck) String() string {
	switch {
	case b.Err != "":
		return "Whop could not be read just now: " + b.Err
	case b.Clean():
		return fmt.Sprintf("Our books match Whop: %s on both sides, none on one side only.", payments(b.Matched))
	}
	return fmt.Sprintf("%s on both sides; %d at Whop only, %d in our books only.", payments(b.Matched), len(b.WhopOnly), len(b.OursOnly))
}

func payments(n int) string {
	if n == 1 {
		return "1 payment"
	}
	return fmt.Sprintf("%d payments", n)
}
