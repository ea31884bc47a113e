// Package server is Creditkit's HTTP edge: the chi route table, middleware,
// handlers and the one place errors become status codes. Handlers parse the
// request, call one use case, build a view model and render it; the rules
// live in billing and the facts in ledger.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/migrations"
	"github.com/creditkit/creditkit/static"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Readiness is what /readyz asks: the database answers and both schemas,
// the app's and River's, are current; it returns the versions it read.
type Readiness interface {
	Ready(ctx context.Context) (migrations.Status, error)
}

// Settings are the parts of the configuration the edge needs.
type Settings struct {
	AppID string
	// Development switches on text logs and trusts SandboxOrigins.
	Development bool
	// SandboxOrigins may frame the app and post to it (a local Whop sandbox).
	SandboxOrigins []string
	// RequestTimeout bounds every request's context.
	RequestTimeout time.Duration
}

// Billing is the handlers' view of the use cases.
type Billing interface {
	ExperienceAccess(ctx context.Context, userID, experienceID string) error
	ExperienceListing(ctx context.Context, experienceID string) (*whop.Experience, error)
	CompanyAdmin(ctx context.Context, userID, companyID string) error
	Packages() []billing.Package
	Currency() money.Currency
	Wallet(ctx context.Context, userID, experienceID string) (billing.Wallet, error)
	Activity(ctx context.Context, userID, experienceID string, before int64) (ledger.ActivityPage, error)
	Charge(ctx context.Context, r billing.ChargeRequest) (billing.Charge, error)
	Confirm(ctx context.Context, userID, purchaseID, receiptID string) (billing.ConfirmResult, error)
	Return(ctx context.Context, userID, purchaseID string) (billing.ReturnResult, error)
	CheckModalOutcome(ctx context.Context, userID, purchaseID string) (billing.ModalOutcome, error)
	Spend(ctx context.Context, r billing.SpendRequest) (ledger.Spend, error)
	HandleDelivery(ctx context.Context, del whop.Delivery, decode func() (*whop.Event, error)) (string, error)
	Premium(ctx context.Context, userID, experienceID string) (billing.PremiumState, error)
	PremiumContent(ctx context.Context, userID, experienceID string) (billing.PremiumState, error)
	UpgradeCheckout(ctx context.Context, userID, experienceID string) (billing.PremiumCheckout, error)
	PremiumMembers(ctx context.Context, companyID string) ([]billing.ExperiencePremium, error)
	PremiumEnabled() bool
	Dashboard(ctx context.Context, userID, companyID string) (billing.Dashboard, error)
	LookupPayment(ctx context.Context, userID, companyID, paymentID string) (billing.PaymentLookup, error)
	RefundablePayment(ctx context.Context, userID, companyID, paymentID string) (billing.PaymentLookup, error)
	RefundPayment(ctx context.Context, r billing.RefundRequest) (billing.PaymentLookup, error)
	SendPayout(ctx context.Context, r billing.PayoutRequest) (billing.PayoutResult, error)
	GrantCredits(ctx context.Context, r billing.GrantRequest) (billing.GrantResult, error)
	MemberHistory(ctx context.Context, userID, experienceID string, write func([]ledger.HistoryRow) error) error
	ReadExportPeriod(from, to string) (billing.ExportPeriod, error)
	CompanyExport(ctx context.Context, userID, companyID string, p billing.ExportPeriod, write func([]ledger.ExportRow) error) error
	PaymentsAPI() whop.PaymentsAPI
}

// WebhookVerifier checks a delivery's signature; the delivery decodes the
// body later, only if it is not a repeat.
type WebhookVerifier interface {
	Authenticate(h http.Header, body []byte) (whop.Delivery, error)
}

// Deps is everything the server is built from. Nil fields make the matching
// routes answer 503 rather than panic, so tests wire only what they use.
type Deps struct {
	Logger   *slog.Logger
	Settings Settings
	Ready    Readiness
	Tokens   TokenVerifier
	Billing  Billing
	Webhooks WebhookVerifier
	// Pool, when set, has its statistics exported on /metrics.
	Pool *pgxpool.Pool
	// Registry receives the server's metrics; a fresh one when nil.
	Registry *prometheus.Registry
	// Reconciler, Jobs, JobRuns and TokenStats, when set, are exported on
	// /metrics.
	Reconciler ReconcilerStats
	Jobs       JobStats
	JobRuns    JobRuns
	TokenStats TokenStats
	// Reporting, when set, has where reporting reads ran exported on
	// /metrics.
	Reporting ReportingStats
	// TopUps and Notices serve the member's auto top-up page (topup.go);
	// without them it answers 503.
	TopUps  AutoTopUps
	Notices MemberNotices
}

// Server holds the wired handler and what its handlers share.
type Server struct {
	log      *slog.Logger
	settings Settings
	ready    Readiness
	tokens   TokenVerifier
	billing  Billing
	webhooks WebhookVerifier
	topups   AutoTopUps
	notices  MemberNotices
	metrics  *metrics
	registry *prometheus.Registry
	// assetVersion busts browser caches when the embedded static files change.
	assetVersion string
	handler      http.Handler
}

// New wires the server.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Settings.RequestTimeout == 0 {
		d.Settings.RequestTimeout = 30 * time.Second
	}
	if !d.Settings.Development {
		// A sandbox is a development tool: in production nothing but Whop
		// may frame the app or post to it.
		d.Settings.SandboxOrigins = nil
	}
	s := &Server{
		log:          d.Logger,
		settings:     d.Settings,
		ready:        d.Ready,
		tokens:       d.Tokens,
		billing:      d.Billing,
		webhooks:     d.Webhooks,
		topups:       d.TopUps,
		notices:      d.Notices,
		registry:     d.Registry,
		metrics:      newMetrics(d.Registry, d.Pool),
		assetVersion: hashFS(static.FS),
	}
	if d.Reconciler != nil || d.Jobs != nil || d.JobRuns != nil || d.TokenStats != nil {
		d.Registry.MustRegister(appCollector{reconciler: d.Reconciler, jobs: d.Jobs, jobRuns: d.JobRuns, tokens: d.TokenStats})
	}
	if d.Reporting != nil {
		d.Registry.MustRegister(reportingCollector{src: d.Reporting})
	}
	s.handler = s.routes()
	return s
}

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// frameAncestors is the CSP that lets only Whop (and, in development, the
// sandbox) frame the app. Whop's iframe needs the app framable, so there is
// deliberately no X-Frame-Options.
func (s *Server) frameAncestors() string {
	parts := []string{"https://whop.com", "https://*.whop.com"}
	parts = append(parts, s.settings.SandboxOrigins...)
	return strings.Join(parts, " ")
}

// parentOrigins are the origins that can be the app's parent here, for the
// iframe SDK's override list: Whop's own, plus the sandbox's in development.
// The SDK's built-in list also has http://localhost:8003, Whop's own
// development parent; no production app is framed there, and the sandbox
// names its real origins (on whatever port it runs) in SANDBOX_ORIGINS.
// The page's script narrows the list further to the parent's own origin.
func (s *Server) parentOrigins() string {
	parts := append([]string{"https://whop.com", "https://dash.whop.com"}, s.settings.SandboxOrigins...)
	return strings.Join(parts, ",")
}

func hashFS(fsys fs.FS) string {
	h := sha256.New()
	fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(fsys, path)
		if err == nil {
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}
