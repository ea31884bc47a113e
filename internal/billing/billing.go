// Package billing holds Creditkit's use cases: charging for credits,
// fulfilling payments exactly once, refunds, spending, premium access,
// payouts and the creator's revenue share. It joins the Whop API (through the
// small interface it declares) to the facts in ledger; it knows nothing of
// HTTP or templates. It is split by area (areas.go), each a small service
// over one shared core.
package billing

import (
	"context"
	"crypto/rand"
	"errors"
	"iter"
	"log/slog"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// Whop is billing's view of the Whop API: what it calls, nothing more, so
// tests can point it at the sandbox or at a fake.
type Whop interface {
	CreateCheckoutConfiguration(ctx context.Context, p whop.CheckoutConfigurationParams) (*whop.CheckoutConfiguration, error)
	GetPayment(ctx context.Context, id string) (*whop.Payment, error)
	ListPayments(ctx context.Context, p whop.ListPaymentsParams) iter.Seq2[*whop.Payment, error]
	GetPaymentVia(ctx context.Context, api whop.PaymentsAPI, id string) (*whop.Payment, error)
	RefundPayment(ctx context.Context, id string, p whop.RefundParams) (*whop.Payment, error)
	GetExperience(ctx context.Context, id string) (*whop.Experience, error)
	GetCompany(ctx context.Context, id string) (*whop.Company, error)
	GetUser(ctx context.Context, idOrUsername string) (*whop.User, error)
	CheckAccess(ctx context.Context, userID, resourceID string) (whop.Access, error)
	GetMembership(ctx context.Context, id string) (*whop.Membership, error)
	GetLedgerAccount(ctx context.Context, id string) (*whop.LedgerAccount, error)
	CreateTransfer(ctx context.Context, p whop.TransferParams) (*whop.Transfer, error)
}

// Package is a credit package on sale.
type Package struct {
	ID      string
	Credits int64
	Price   int64 // minor units of Config.Currency
}

// Config is what billing needs from the configuration.
type Config struct {
	// CompanyID is the app owner's company: it owns the inline plans and
	// receives every in-app payment.
	CompanyID string
	Packages  []Package
	Currency  money.Currency
	// Items are what credits buy (SPEND_ITEMS), in the order shown.
	Items []Item
	// AccessTTL is how long an access check is trusted (default 30 s).
	AccessTTL time.Duration
	// PaymentWait bounds how long confirm waits out the brief 404 Whop gives
	// for a brand-new payment (default 8 s).
	PaymentWait time.Duration
	// Premium is the premium plan; without it premium is off.
	Premium PremiumConfig
	// AppURL is the app's public origin. Checkouts made with it send buyers
	// paying on Whop's own page back to ReturnPath; without it they carry
	// no redirect and Whop keeps the buyer on its confirmation page.
	AppURL string
	// PaymentsAPI is the generation payment look-ups use (default v1).
	PaymentsAPI whop.PaymentsAPI
	// RevenueShareBasisPoints is the creator's share of each credit sale
	// made in their experience, in hundredths of a percent (0: none).
	RevenueShareBasisPoints int64
	// PayoutRetryAfter is when a payout's safety-net job first runs, should
	// the request that recorded it not finish it (default 1 min).
	PayoutRetryAfter time.Duration
}

// Metadata keys Creditkit puts on checkout configurations; Whop copies
// them onto the payment, which is how a payment finds its purchase.
const (
	MetaPurchaseID   = "creditkit_purchase_id"
	MetaExperienceID = "experience_id"
	MetaUserID       = "user_id"
	MetaPackageID    = "package_id"
	// MetaExperienceCompanyID names the company of the experience a premium
	// checkout was made in, so its creator's dashboard can list the member.
	MetaExperienceCompanyID = "experience_company_id"
)

// Errors the edge maps to responses.
var (
	ErrUnknownPackage    = errors.New("billing: no credit package with that id")
	ErrUnknownExperience = errors.New("billing: no such experience")
	ErrNoAccess          = errors.New("billing: no access")
	ErrPaymentPending    = errors.New("billing: Whop has not made the payment readable yet")
	ErrNotYourPayment    = errors.New("billing: the receipt is not for this purchase")
)

// core is what every area of billing shares: the Whop client, the
// ledger, the configuration and the per-replica caches. The areas (Access,
// Credits, Deliveries, MoneyOut, Premium, Reports, Grants; areas.go) are
// views of one core, each with the few use cases of its own.
type core struct {
	whop  Whop
	store *ledger.Store
	// reports is where what people only look at is read (the replica when
	// one is configured); store, the primary, is for all that decides money.
	reports *ledger.Reporting
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	access  *accessCache
	seen    *seenSet
	// premium is per replica; the memberships table tells it when to let go.
	premium *premiumCache
}

// Option adjusts a Service; tests use them for clocks.
type Option func(*core)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(s *core) { s.now = now } }

// WithSleep replaces the context-aware sleep used while waiting for Whop.
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(s *core) { s.sleep = sleep }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *core) { s.log = l } }

// WithReporting routes the dashboards' reports, the owner's overview and
// payment look-ups through r (a read replica); by default they read the
// store they were given, the primary.
func WithReporting(r *ledger.Reporting) Option { return func(s *core) { s.reports = r } }

// New returns billing's areas over one core.
func New(w Whop, store *ledger.Store, cfg Config, opts ...Option) *Service {
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = 30 * time.Second
	}
	if cfg.PaymentWait == 0 {
		cfg.PaymentWait = 8 * time.Second
	}
	if cfg.Premium.TTL == 0 {
		cfg.Premium.TTL = 30 * time.Second
	}
	if cfg.PaymentsAPI == "" {
		cfg.PaymentsAPI = whop.PaymentsV1
	}
	if cfg.PayoutRetryAfter == 0 {
		cfg.PayoutRetryAfter = time.Minute
	}
	s := &core{whop: w, store: store, cfg: cfg, log: slog.New(slog.DiscardHandler), now: time.Now, sleep: whop.SleepContext}
	for _, o := range opts {
		o(s)
	}
	if s.reports == nil {
		s.reports = ledger.NewReporting(store, nil)
	}
	s.access = newAccessCache(w, cfg.AccessTTL, s.now)
	s.seen = newSeenSet(100_000)
	s.premium = newPremiumCache(w, store, s.cfg.Premium, s.now)
	return &Service{Access: Access{s}, Credits: Credits{s}, Deliveries: Deliveries{s}, MoneyOut: MoneyOut{s},
		Premium: Premium{s}, Reports: Reports{s}, Grants: Grants{s}, core: s}
}

// Packages returns the packages on sale.
func (s Credits) Packages() []Package { return s.cfg.Packages }

// Currency is the currency packages are priced in.
func (s Credits) Currency() money.Currency { return s.cfg.Currency }

func (s *core) pkg(id string) (Package, bool) {
	for _, p := range s.cfg.Packages {
		if p.ID == id {
			return p, true
		}
	}
	return Package{}, false
}

// PurchasePrefix starts every purchase id: ours, shaped like Whop's ids so
// one check (whop.ValidID) reads both.
const PurchasePrefix = "pur_"

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID makes a Whop-shaped id of ours ("pur_" + 16 base62 characters).
func newID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	out := make([]byte, len(prefix)+len(b))
	copy(out, prefix)
	for i, c := range b {
		// 62*4 = 248: rejecting nothing keeps this branch-free; the bias
		// (256 vs 248) is irrelevant for an identifier.
		out[len(prefix)+i] = idAlphabet[int(c)%len(idAlphabet)]
	}
	return string(out)
}
