// Package server is Creditkit's HTTP edge: the chi route table, middleware,
// handlers and the one place errors become status codes. Handlers parse the
// request, call one use case through the small interface their file
// declares, and hand the result to view for the page or the JSON reply;
// the rules live in billing (which decides every access rule), the facts in
// ledger, which this package never names.
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
	"github.com/creditkit/creditkit/internal/logctx"
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

// Billing is the use cases the handlers call, by area: each field is the
// small interface the handler file named beside it declares, so a test
// fakes only the area it drives. BillingOf fills it from billing's areas.
type Billing struct {
	Access     Access     // auth.go: the page and admin middleware, the no-access page
	Credits    Credits    // credits.go (activity.go, return.go): a member's wallet
	Deliveries Deliveries // webhook.go: Whop's deliveries
	Premium    Premium    // premium.go
	Reports    Reports    // dashboard.go, exports.go
	MoneyOut   MoneyOut   // dashboard_api.go (and the dashboard's forms): look-ups, refunds, payouts
	Grants     Grants     // grants.go
}

// BillingOf is the handlers' Billing over billing's areas.
func BillingOf(b *billing.Service) Billing {
	return Billing{Access: b.Access, Credits: b.Credits, Deliveries: b.Deliveries, Premium: b.Premium,
		Reports: b.Reports, MoneyOut: b.MoneyOut, Grants: b.Grants}
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
	// parents is parentOrigins(), joined once: every page carries it.
	parents string
	handler http.Handler
}

// New wires the server.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	// Every line logged with a request's context carries its id and route.
	d.Logger = slog.New(logctx.Handler(d.Logger.Handler()))
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
	s.parents = s.parentOrigins()
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
