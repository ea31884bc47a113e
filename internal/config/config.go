// Package config parses Creditkit's environment once into a typed Config.
// Nothing else in the program reads the environment.
//
// Load reports every problem at once, one line per variable, so an operator
// fixes a bad deployment in one pass instead of one restart per mistake.
package config

import (
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// Env says how the server presents itself: text logs and sandbox-friendly
// defaults in development, JSON logs in production.
type Env string

// The two environments.
const (
	Development Env = "development"
	Production  Env = "production"
)

// Defaults that the SPEC fixes.
const (
	DefaultPort           = 3000
	DefaultWhopBaseURL    = "https://api.whop.com/api/v1"
	DefaultJWKSURL        = "https://api.whop.com/.well-known/jwks.json"
	DefaultCreditPackages = "starter:100:4.99,pro:600:24.99"
	DefaultCurrency       = "usd"
	// DefaultAPIVersionDate is the Whop API version (Api-Version-Date) the
	// app is written against: the newest Whop's changelog lists. The app
	// sends plan bodies with account_id and reads plans' account, as that
	// version (and every one since 2026-06-09) has them.
	DefaultAPIVersionDate = "2026-07-01"
)

// Upper bounds of amounts in configuration, so a slip of the keyboard is
// refused at start rather than met at run time.
const (
	// MaxCredits bounds a package's credits, a spend item's cost and a
	// premium period's grant: far above any sale, far below where wallet
	// sums could overflow.
	MaxCredits = 1_000_000_000
	// MaxPrice bounds a package's price in minor units: the largest amount
	// the app reads from Whop (whop.MaxAmount), so a sale it priced is
	// never one it refuses to read back.
	MaxPrice = 100_000_000_000_000
	// MaxWorkers is the most job workers River runs on a queue.
	MaxWorkers = 10_000
)

// Config is everything the server needs to start, validated.
type Config struct {
	Env  Env
	Port int
	// DatabaseURL is what the app's connection pool dials: Postgres itself,
	// or a connection pooler in front of it (see DatabasePooler).
	DatabaseURL string
	// DatabaseDirectURL reaches the primary with no transaction pooler in
	// between (DATABASE_URL_DIRECT): migrations hold session-level advisory
	// locks there. Empty: DatabaseURL is direct. See MigrationURL.
	DatabaseDirectURL string
	// DatabaseReplicaURL is a read replica (DATABASE_REPLICA_URL) that
	// dashboard reports, the owner's overview and payment look-ups read
	// from; empty, they read the primary. Nothing that decides money reads it.
	DatabaseReplicaURL string
	// DatabasePooler says what DatabaseURL goes through (DATABASE_POOLER).
	DatabasePooler Pooler
	// AppURL is the origin members reach the app at (APP_URL), e.g.
	// https://<id>.apps.whop.com. Whop's hosted checkout sends buyers back
	// to a page under it. Empty: checkouts carry no redirect, and Whop keeps
	// the buyer on its own confirmation page.
	AppURL string
	Whop   Whop
	// Packages are the credit packages on sale, in the order configured.
	Packages []Package
	// SpendItems are what credits buy (SPEND_ITEMS), in the order configured.
	SpendItems []SpendItem
	Currency   money.Currency
	Premium    Premium
	// RevenueShareBasisPoints is REVENUE_SHARE_PERCENT in hundredths of a
	// percent, so "12.5" is 1250 and no float ever touches a share.
	RevenueShareBasisPoints int64
	// SandboxOrigins are the local Whop sandbox's parent and relay origins,
	// trusted for framing and browser POSTs. Empty in production.
	SandboxOrigins []string
	// ShutdownTimeout bounds how long in-flight requests get on SIGTERM.
	ShutdownTimeout time.Duration
	// ReconcileInterval is how often the reconciler lists Whop's payments.
	ReconcileInterval time.Duration
	// Workers is how many background jobs this replica runs at once.
	Workers int
	// PprofAddr, when set, serves Go's profiler there (keep it on loopback).
	PprofAddr string
}

// Pooler is what stands between the app's pool and Postgres.
type Pooler string

// The poolers Creditkit knows how to work behind.
const (
	// PoolerNone is Postgres itself, or a pooler in session mode, which
	// keeps one server connection per client: LISTEN, named prepared
	// statements and session locks all work.
	PoolerNone Pooler = "none"
	// PoolerTransaction is a pooler in transaction mode (PgBouncer's
	// pool_mode = transaction): a server connection is the client's only
	// for one transaction, so nothing may outlive a transaction.
	PoolerTransaction Pooler = "transaction"
)

// MigrationURL is where migrations run: the direct URL when one is given,
// as their session-level advisory locks cannot pass a transaction pooler.
func (c *Config) MigrationURL() string {
	if c.DatabaseDirectURL != "" {
		return c.DatabaseDirectURL
	}
	return c.DatabaseURL
}

// Whop holds the app's credentials and endpoints.
type Whop struct {
	APIKey        string
	AppID         string // app_…, the audience of user tokens
	CompanyID     string // biz_… that owns the app and receives payments
	WebhookSecret string // exactly as Whop shows it; used as raw bytes
	BaseURL       string
	JWKSURL       string
	PublicKey     string // static PEM or JWK; when set the JWKS is not used
	PaymentsAPI   string // v1, v2 or v5: which generation payment look-ups use
	// APIVersionDate is sent as Api-Version-Date (YYYY-MM-DD) on every call,
	// so Whop answers in the shape this app reads.
	APIVersionDate string
}

// Package is one credit package on sale.
type Package struct {
	ID      string
	Credits int64
	Price   int64 // minor units of Config.Currency
}

// Premium names the premium access pass. Both ids or neither: without them
// the premium features are hidden.
type Premium struct {
	ProductID      string
	PlanID         string
	MonthlyCredits int64 // credits granted once per billing period
}

// Enabled reports whether premium is configured.
func (p Premium) Enabled() bool { return p.ProductID != "" && p.PlanID != "" }

// Package returns the package with the given id.
func (c *Config) Package(id string) (Package, bool) {
	for _, p := range c.Packages {
		if p.ID == id {
			return p, true
		}
	}
	return Package{}, false
}

// Problem is one bad variable.
type Problem struct {
	Var  string
	Want string
}

// Error lists every problem found, one per line.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "config: " + p.Var + ": " + p.Want
	}
	return strings.Join(lines, "\n")
}

// Load reads and validates the configuration from getenv.
func Load(getenv func(string) string) (*Config, error) {
	l := loader{getenv: getenv}
	cfg := &Config{
		Env:                Env(l.str("APP_ENV", string(Production))),
		Port:               l.port("PORT"),
		DatabaseURL:        l.databaseURL("DATABASE_URL"),
		DatabaseDirectURL:  l.optionalDatabaseURL("DATABASE_URL_DIRECT"),
		DatabaseReplicaURL: l.optionalDatabaseURL("DATABASE_REPLICA_URL"),
		DatabasePooler:     l.pooler("DATABASE_POOLER"),
		AppURL:             l.appURL("APP_URL"),
		Whop: Whop{
			APIKey:         l.required("WHOP_API_KEY", "the app's API key from Whop's developer dashboard"),
			AppID:          l.prefixed("WHOP_APP_ID", "app_", true),
			CompanyID:      l.prefixed("WHOP_COMPANY_ID", "biz_", true),
			WebhookSecret:  l.required("WHOP_WEBHOOK_SECRET", "the webhook's secret (ws_…) exactly as Whop shows it"),
			BaseURL:        l.httpURL("WHOP_BASE_URL", DefaultWhopBaseURL),
			JWKSURL:        l.httpURL("WHOP_USER_TOKEN_JWKS_URL", DefaultJWKSURL),
			PublicKey:      strings.TrimSpace(getenv("WHOP_USER_TOKEN_PUBLIC_KEY")),
			PaymentsAPI:    l.oneOf("WHOP_PAYMENTS_API", "v1", "v1", "v2", "v5"),
			APIVersionDate: l.versionDate("WHOP_API_VERSION_DATE", DefaultAPIVersionDate),
		},
		Currency: l.currency("CREDIT_CURRENCY"),
		Premium: Premium{
			ProductID:      l.prefixed("PREMIUM_PRODUCT_ID", "prod_", false),
			PlanID:         l.prefixed("PREMIUM_PLAN_ID", "plan_", false),
			MonthlyCredits: l.upTo("PREMIUM_MONTHLY_CREDITS", 0, MaxCredits),
		},
		RevenueShareBasisPoints: l.percent("REVENUE_SHARE_PERCENT"),
		SandboxOrigins:          l.origins("SANDBOX_ORIGINS"),
		ShutdownTimeout:         l.duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		ReconcileInterval:       l.duration("RECONCILE_INTERVAL", time.Minute),
		Workers:                 int(l.upTo("WORKERS", 4, MaxWorkers)),
		PprofAddr:               l.listenAddr("PPROF_ADDR"),
	}
	if cfg.Env != Development && cfg.Env != Production {
		l.bad("APP_ENV", "expected development or production, got %q", cfg.Env)
	}
	if (cfg.Premium.ProductID == "") != (cfg.Premium.PlanID == "") {
		l.bad("PREMIUM_PLAN_ID", "PREMIUM_PRODUCT_ID and PREMIUM_PLAN_ID go together: set both or neither")
	}
	if cfg.DatabasePooler == PoolerTransaction {
		switch cfg.DatabaseDirectURL {
		case "":
			l.bad("DATABASE_URL_DIRECT", "is required with DATABASE_POOLER=transaction: migrations hold session-level advisory locks, "+
				"which a transaction pooler cannot keep; give the primary's own address (not the pooler's)")
		case cfg.DatabaseURL:
			l.bad("DATABASE_URL_DIRECT", "is DATABASE_URL itself, the pooler's address: give the primary's own address")
		}
	}
	cfg.Packages = l.packages("CREDIT_PACKAGES", cfg.Currency)
	cfg.SpendItems = l.spendItems("SPEND_ITEMS")
	if len(l.problems) > 0 {
		return nil, &Error{Problems: l.problems}
	}
	return cfg, nil
}
