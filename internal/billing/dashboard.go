package billing

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
)

// How much of each list the dashboard shows.
const (
	RevenueDays = 30
	// ReplicaLagShown is how far behind a read replica must be before the
	// dashboard says its figures may be missing the newest rows: streaming
	// replicas are usually a fraction of a second behind, which nobody
	// needs told.
	ReplicaLagShown   = 5 * time.Second
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
	Receipts []ledger.SaleRow
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
	// Reports says where our records on the page were read: the read
	// replica (and how far behind it was) or the primary.
	Reports ledger.Served
}

// StaleBy is how far behind the figures may be, when that is worth
// saying (ReplicaLagShown or more); 0 otherwise.
func (d Dashboard) StaleBy() time.Duration {
	if d.Reports.Source == ledger.SourceReplica && d.Reports.Lag >= ReplicaLagShown {
		return d.Reports.Lag
	}
	return 0
}

// Dashboard gathers a company's dashboard for its admin userID. Only the
// company's title and ledger balance come from Whop, and their failure
// leaves the rest of the page (our own records) readable.
func (s Reports) Dashboard(ctx context.Context, userID, companyID string) (Dashboard, error) {
	if err := s.companyAdmin(ctx, userID, companyID); err != nil {
		return Dashboard{}, err
	}
	d := Dashboard{CompanyID: companyID, IsOwner: companyID == s.cfg.CompanyID, Currency: s.cfg.Currency,
		ShareSide: ledger.SharesPaidTo, ShareBasisPoints: s.cfg.RevenueShareBasisPoints}
	if d.IsOwner {
		d.ShareSide = ledger.SharesPaidBy
	}
	today := s.now()
	// Every row of ours on the page is read in one go, from the replica
	// when there is one (again from the primary should it fail mid-way);
	// Whop is asked afterwards, outside it, so a fallback never asks twice.
	var err error
	d.Reports, err = s.reports.Read(ctx, func(st *ledger.Store) error { return s.dashboardRows(ctx, st, &d, today) })
	if err != nil {
		return d, err
	}
	if d.IsOwner {
		s.companyTitles(ctx, d.Overview.Companies)
		d.Overview.Books = s.compareBooks(ctx, d.Overview.From)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if c, err := s.whop.GetCompany(wctx, companyID); err == nil {
		d.CompanyTitle = c.Title
	}
	d.Account, d.AccountErr = s.payoutAccount(wctx, companyID)
	if d.AccountErr != nil {
		s.log.WarnContext(ctx, "dashboard: ledger account unavailable", "company_id", companyID, "error", d.AccountErr.Error())
	}
	return d, nil
}

// dashboardRows reads the dashboard's rows of ours from st into d.
func (s *core) dashboardRows(ctx context.Context, st *ledger.Store, d *Dashboard, today time.Time) error {
	from := today.AddDate(0, 0, -(RevenueDays - 1))
	cur := string(s.cfg.Currency)
	// The owner's company received every in-app payment, so its view is
	// the whole app; a creator's is its own experiences.
	scope := d.CompanyID
	var err error
	if d.IsOwner {
		scope = ""
		d.Revenue, err = st.AppRevenueReport(ctx, cur, from, today)
	} else {
		d.Revenue, err = st.RevenueReport(ctx, d.CompanyID, cur, from, today)
	}
	if err != nil {
		return err
	}
	if d.Receipts, err = st.CompanyPurchases(ctx, scope, dashboardReceipts); err != nil {
		return err
	}
	if d.Grants, err = st.GrantReport(ctx, scope, from, today); err != nil {
		return err
	}
	if d.GrantList, err = st.CompanyGrants(ctx, scope, dashboardGrants); err != nil {
		return err
	}
	if d.GrantExperiences, err = st.CompanyExperiences(ctx, scope, grantExperiences); err != nil {
		return err
	}
	if d.IsOwner {
		o, err := s.appOverview(ctx, st, d.Revenue.From, today, d.Revenue)
		if err != nil {
			return err
		}
		d.Overview = &o
	}
	if d.Shares, d.ShareSummary, err = st.RevenueShares(ctx, d.CompanyID, d.ShareSide, cur, dashboardShares); err != nil {
		return err
	}
	if d.Payouts, err = st.Payouts(ctx, d.CompanyID, dashboardPayouts); err != nil {
		return err
	}
	d.Deliveries, err = st.DeliveriesFor(ctx, d.CompanyID, d.IsOwner, dashboardDelivers)
	return err
}
