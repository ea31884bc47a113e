package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/config"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/logctx"
	"github.com/creditkit/creditkit/internal/server"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// serve is the composition root: every dependency is built here, in plain
// sight, and torn down in reverse when ctx ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	migrate := fs.Bool("migrate", true, "apply pending migrations before serving")
	host := fs.String("host", "", "the address to listen on, e.g. 127.0.0.1 for loopback only (default: every interface, as a container needs)")
	if err := fs.Parse(args); err != nil {
		return exitError{err}
	}
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return err
	}
	paceGC()
	logOut := newLineBatcher(stderr, 1<<20)
	defer logOut.Close() // registered first, so it runs last: every line is out before serve returns
	log := newLogger(cfg, logOut)
	if cfg.Env != config.Development && len(cfg.SandboxOrigins) > 0 {
		log.Warn("SANDBOX_ORIGINS is ignored outside APP_ENV=development: only Whop may frame the app in production")
	}

	poolCfg, err := poolConfig(cfg.DatabaseURL, cfg.DatabasePooler)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if !strings.Contains(cfg.DatabaseURL, "pool_max_conns") {
		// pgx's default (4 on a small machine) is too few: requests need
		// theirs, a running job takes one for each short transaction it
		// makes (none while it waits on Whop), and River keeps one for
		// LISTEN and a few for fetching, completing and leading. Behind a
		// transaction pooler these are client connections to the pooler,
		// which holds a server connection only while a transaction runs.
		poolCfg.MaxConns = int32(max(20, cfg.Workers+12))
	}
	pooled := cfg.DatabasePooler == config.PoolerTransaction
	if pooled {
		log.Info("database: through a transaction pooler: River polls for jobs instead of LISTENing, "+
			"migrations run on DATABASE_URL_DIRECT", slog.String("query_exec_mode", execModeName(poolCfg.ConnConfig.DefaultQueryExecMode)))
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()
	probe, err := probePool(ctx, poolCfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer probe.Close()
	ready := ledger.NewStore(probe)
	// The database's part of the start (a connection, the schema checked or
	// migrated) is mostly waiting on Postgres, so the rest is built
	// meanwhile; nothing built touches the database before it is done.
	// Any return below waits for it (then the pools close).
	dbCtx, cancelDB := context.WithCancel(ctx)
	dbDone := make(chan error, 1)
	go func() { dbDone <- prepareDatabase(dbCtx, probe, *migrate, cfg.MigrationURL(), log) }()
	waitDB := sync.OnceValue(func() error { return <-dbDone })
	defer waitDB()
	defer cancelDB() // runs first: a start that failed elsewhere stops waiting on Postgres
	// River inserts jobs for the ledger (in the ledger's transactions) and,
	// with WORKERS > 0, runs them; billing's workers are registered below,
	// once billing exists, before anything is inserted or started.
	jobs, err := billing.NewJobs(pool, billing.JobsConfig{
		Workers:         cfg.Workers,
		PollOnly:        pooled,
		ReconcileEvery:  cfg.ReconcileInterval,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          log.With(slog.String("component", "river")),
	})
	if err != nil {
		return err
	}
	store := ledger.NewStore(pool, ledger.WithJobs(jobs))
	reports, closeReplica, err := openReporting(ctx, cfg, store, log)
	if err != nil {
		return err
	}
	defer closeReplica()

	whopClient := whop.New(cfg.Whop.APIKey,
		whop.WithBaseURL(cfg.Whop.BaseURL),
		whop.WithAppID(cfg.Whop.AppID),
		whop.WithAPIVersionDate(cfg.Whop.APIVersionDate),
		whop.WithLogger(log))
	tokenOpts := []whop.TokenOption{whop.WithJWKSURL(cfg.Whop.JWKSURL)}
	if cfg.Whop.PublicKey != "" {
		tokenOpts = []whop.TokenOption{whop.WithStaticKey(cfg.Whop.PublicKey)}
	}
	tokens, err := whop.NewTokenVerifier(cfg.Whop.AppID, tokenOpts...)
	if err != nil {
		return fmt.Errorf("user tokens: %w", err)
	}
	packages := make([]billing.Package, len(cfg.Packages))
	for i, p := range cfg.Packages {
		packages[i] = billing.Package{ID: p.ID, Credits: p.Credits, Price: p.Price}
	}
	items := make([]billing.Item, len(cfg.SpendItems))
	for i, it := range cfg.SpendItems {
		items[i] = billing.Item{ID: it.ID, Title: it.Title, Description: it.Description, Cost: it.Cost}
	}
	bill := billing.New(whopClient, store, billing.Config{
		CompanyID:               cfg.Whop.CompanyID,
		Packages:                packages,
		Items:                   items,
		Currency:                cfg.Currency,
		PaymentsAPI:             whop.PaymentsAPI(cfg.Whop.PaymentsAPI),
		RevenueShareBasisPoints: cfg.RevenueShareBasisPoints,
		AppURL:                  cfg.AppURL,
		Premium: billing.PremiumConfig{
			ProductID:      cfg.Premium.ProductID,
			PlanID:         cfg.Premium.PlanID,
			MonthlyCredits: cfg.Premium.MonthlyCredits,
		},
	}, billing.WithLogger(log), billing.WithReporting(reports))
	if cfg.AppURL == "" {
		log.Warn("APP_URL is not set: members who pay on Whop's checkout page stay there instead of coming back to the app (their credits still arrive by webhook)")
	}

	jobs.Register(bill)
	topups, notices := billing.NewTopUps(bill, whopClient), billing.NewNotices(bill, whopClient)
	jobs.RegisterMemberJobs(topups, notices)

	handler := server.New(server.Deps{
		Logger: log,
		Settings: server.Settings{
			AppID:          cfg.Whop.AppID,
			Development:    cfg.Env == config.Development,
			SandboxOrigins: cfg.SandboxOrigins,
		},
		Ready:      ready,
		Tokens:     tokens,
		Billing:    server.BillingOf(bill),
		Webhooks:   whop.NewWebhookVerifier(cfg.Whop.WebhookSecret),
		Pool:       pool,
		Registry:   prometheus.NewRegistry(),
		Reconciler: store,
		Jobs:       store,
		JobRuns:    jobs,
		TokenStats: tokens,
		Reporting:  reports,
		TopUps:     topups,
		Notices:    notices,
	})

	if err := waitDB(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.PprofAddr != "" {
		stopProfiler, err := serveProfiler(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopProfiler()
	}

	// Background jobs start beside the listener, not before it: River's
	// start (its leader election, LISTEN connection and producers) took
	// longer than everything else a replica does to be ready, and requests
	// need none of it. A replica whose jobs cannot start stops, as one that
	// cannot listen does. Jobs stop with the server: running ones get the
	// shutdown timeout to finish, then are cancelled and handed back (River
	// marks them available again) for another replica.
	serveCtx, stopServing := context.WithCancelCause(ctx)
	defer stopServing(nil)
	jobsDone := make(chan error, 1)
	go func() {
		if err := jobs.Start(context.WithoutCancel(ctx)); err != nil {
			stopServing(err)
			jobsDone <- nil
			return
		}
		<-serveCtx.Done()
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+5*time.Second)
		defer cancel()
		jobsDone <- jobs.Stop(stopCtx)
	}()
	fmt.Fprintln(stdout, listeningLine(cfg, ln.Addr()))
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("env", string(cfg.Env)), slog.Int("workers", cfg.Workers))
	err = serveUntilDone(serveCtx, srv, ln, cfg.ShutdownTimeout, log)
	cause := context.Cause(serveCtx)
	stopServing(nil) // the jobs stop too, however serving ended
	if jerr := <-jobsDone; jerr != nil {
		log.Error("jobs did not stop cleanly", slog.String("error", jerr.Error()))
	}
	if err == nil && ctx.Err() == nil && cause != nil {
		return cause // the jobs did not start
	}
	return err
}

// listeningLine says where the server listens and where a person opens
// the app: its pages answer only requests Whop (or the sandbox) relays with
// a user token, so the listen address itself is not a URL to open. In
// development the first SANDBOX_ORIGINS entry is the sandbox's page.
func listeningLine(cfg *config.Config, addr net.Addr) string {
	line := "creditkit listening on " + addr.String()
	switch {
	case cfg.Env == config.Development && len(cfg.SandboxOrigins) > 0:
		return line + "; open " + cfg.SandboxOrigins[0] + " to use it through the Whop sandbox"
	case cfg.AppURL != "":
		return line + "; members open it inside Whop, which serves it at " + cfg.AppURL
	}
	return line + "; members open it inside Whop (its pages need Whop's user token)"
}

// defaultGCPercent is the collector's pace when GOGC is not set: a cycle
// each time the heap grows by twice what was live after the last, where
// Go's default is once. A replica's live heap is a few MiB (caches and
// pools), so cycles come often and each costs about the same whatever it
// finds: on the member's page, the app's busiest answer, the collector was
// 8-12 % of the server's CPU at 100 (make bench's profiles) and 200 took
// about a tenth off the server's CPU a page, for more memory (peak RSS
// 40-49 MiB at the bench's page load against 34-40). 400 was tried: fewer
// cycles (at 200 and 1,000 pages a second one comes every half second,
// marking for 2-21 ms of wall time on two cores, and pages caught in it
// make the p99), but the whole bench's peak RSS reached 62.3 and 63.4 MiB
// against its 64 MiB target, for a p99 and a ratio within the machine's
// noise of 200's (README, "Where the time goes"). GOGC in the
// environment, which the runtime reads itself, overrides it.
const defaultGCPercent = 200

func paceGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// serveUntilDone serves until ctx ends, then lets in-flight requests finish
// (up to timeout) before returning; the caller then closes the pool.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", slog.Duration("timeout", timeout))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// loadConfig prints one line per configuration problem and fails quietly
// (no stack trace, no repeated message).
func loadConfig(getenv func(string) string, stderr io.Writer) (*config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, exitError{err}
	}
	return cfg, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	if cfg.Env == config.Development {
		return slog.New(logctx.Handler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return slog.New(logctx.Handler(slog.NewJSONHandler(w, nil)))
}

// serveProfiler serves net/http/pprof on its own listener, never on the
// app's router: profiles expose internals, and the address is loopback only
// by configuration.
func serveProfiler(addr string, log *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("profiler: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	log.Info("profiler listening", slog.String("addr", addr))
	return func() { srv.Close() }, nil
}
