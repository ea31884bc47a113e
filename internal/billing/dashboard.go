package billing

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
)

// How much of each list the dashboard shows.
const (
	RevenueDays       = 30
	dashboardReceipts = 25
	dashboardPayouts  = 25
	dashboardShares   = 25
	dashboardDelivers = 25
	dashboardGrants   = 25
	// grantExperiences is how many experiences the grant form suggests.
	grantExperiences = 20
)

// Dashboard is everything a company's admins see on their dashboard.
type Dashboard struct {
	CompanyID    string
	CompanyTitle string // "" when Whop could not say
	// IsOwner is true for the app owner's company: it receives the in-app
	// payments, pays the revenue shares and sees every delivery.
	IsOwner  bool
	Currency money.Currency
	Revenue  ledger.RevenueReport
	Receipts []ledger.Purchase
	// Shares are the revenue shares the owner paid out, or the ones this
	// creator received; ShareBasisPoints is the configured percentage.
	ShareSide        ledger.ShareSide
	Shares           []ledger.RevenueShare
	ShareSummary     ledger.ShareSummary
	ShareBasisPoints int64
	Payouts          []ledger.Payout
	// Account is the balance payouts draw on; AccountErr says why it could
	// not be read (Whop down), and the rest of the page still shows.
	Account    PayoutAccount
	AccountErr error
	Deliveries []ledger.DeliveryRecord
	// Overview is the whole app, for the owner's admins only (nil for a
	// creator): Revenue and Receipts then cover every installing company.
	Overview *AppOverview
	// Grants are the credits the company's admins (and the owner's) gave
	// in its experiences over the revenue window, apart from those sold,
	// with the newest grants; GrantExperiences are the experiences the
	// grant form suggests. The owner's cover every company.
	Grants           ledger.GrantFigures
	GrantList        []ledger.CreditGrant
	GrantExperiences []string
}

// Dashboard gathers a company's dashboard for its admin userID. Only the
// company's title and ledger balance come from Whop, and their failure
// leaves the rest of the page (our own records) readable.
func (s *Service) Dashboard(ctx context.Context, userID, companyID string) (Dashboard, error) {
	if err := s.CompanyAdmin(ctx, userID, companyID); err != nil {
		return Dashboard{}, err
	}
	d := Dashboard{CompanyID: companyID, IsOwner: companyID == s.cfg.CompanyID, Currency: s.cfg.Currency,
		ShareSide: ledger.SharesPaidTo, ShareBasisPoints: s.cfg.RevenueShareBasisPoints}
	if d.IsOwner {
		d.ShareSide = ledger.SharesPaidBy
	}
	today := s.now()
	from := today.AddDate(0, 0, -(RevenueDays - 1))
	// The owner's company received every in-app payment, so its view is
	// the whole app; a creator's is its own experiences.
	scope := companyID
	var err error
	if d.IsOwner {
		scope = ""
		d.Revenue, err = s.store.AppRevenueReport(ctx, string(s.cfg.Currency), from, today)
	} else {
		d.Revenue, err = s.store.RevenueReport(ctx, companyID, string(s.cfg.Currency), from, today)
	}
	if err != nil {
		return d, err
	}
	if d.Receipts, err = s.store.CompanyPurchases(ctx, scope, dashboardReceipts); err != nil {
		return d, err
	}
	if d.Grants, err = s.store.GrantReport(ctx, scope, from, today); err != nil {
		return d, err
	}
	if d.GrantList, err = s.store.CompanyGrants(ctx, scope, dashboardGrants); err != nil {
		return d, err
	}
	if d.GrantExperiences, err = s.store.CompanyExperiences(ctx, scope, grantExperiences); err != nil {
		return d, err
	}
	if d.IsOwner {
		o, err := s.appOverview(ctx, d.Revenue.From, today, d.Revenue)
		if err != nil {
			return d, err
		}
		d.Overview = &o
	}
	if d.Shares, d.ShareSummary, err = s.store.RevenueShares(ctx, companyID, d.ShareSide, string(s.cfg.Currency), dashboardShares); err != nil {
		return d, err
	}
	if d.Payouts, err = s.store.Payouts(ctx, companyID, dashboardPayouts); err != nil {
		return d, err
	}
	if d.Deliveries, err = s.store.DeliveriesFor(ctx, companyID, d.IsOwner, dashboardDelivers); err != nil {
		return d, err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if c, err := s.whop.GetCompany(wctx, companyID); err == nil {
		d.CompanyTitle = c.Title
	}
	d.Account, d.AccountErr = s.PayoutAccount(wctx, companyID)
	if d.AccountErr != nil {
		s.log.WarnContext(ctx, "dashboard: ledger account unavailable", "company_id", companyID, "error", d.AccountErr.Error())
	}
	return d, nil
}
