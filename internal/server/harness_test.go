package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/server"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// app is the whole product under test: the real server on a real Postgres,
// talking to an in-process sandbox that plays Whop (API, tokens, webhooks).
type app struct {
	t       *testing.T
	env     *whopsimtest.Env
	sim     *whopsim.Sim
	db      *pgtest.DB
	store   *ledger.Store
	billing *billing.Service
	whop    *whop.Client
	tokens  *whop.TokenVerifier
	jobs    *billing.Jobs // River with workers, stopped: tests drain it when they choose
	url     string        // the app itself, not through the relay
	ctx     context.Context
	log     *slog.Logger
	cfg     appConfig // what setup was given, for replicas
	// reporting is where reporting reads go; nil: the primary.
	reporting *ledger.Reporting
	// ahead is how far billing's clock runs ahead of the real one (negative:
	// behind); the database keeps its own. Copies of the app share it.
	ahead *atomic.Int64
}

// now is billing's clock: the real one, moved by what a test set in ahead.
func (a *app) now() time.Time { return time.Now().Add(time.Duration(a.ahead.Load())) }

// grantEarly posts a grant as if two minutes earlier, on billing's clock,
// for tests that watch an expiry come seconds after the grant: a new grant
// must expire at least billing.MinGrantLead after it is asked for.
func (a *app) grantEarly(user string, body map[string]any) (int, map[string]any, string) {
	a.t.Helper()
	a.ahead.Store(int64(-2 * time.Minute))
	defer a.ahead.Store(0)
	return a.grant(user, body)
}

// appConfig is what a test may change about its app and sandbox.
type appConfig struct {
	sim         whopsim.Options
	shareBP     int64            // REVENUE_SHARE_PERCENT in basis points
	paymentsAPI whop.PaymentsAPI // WHOP_PAYMENTS_API
	client      []whop.Option    // e.g. a short timeout or a faulty transport
	noPremium   bool             // PREMIUM_PRODUCT_ID and PREMIUM_PLAN_ID unset
	items       []billing.Item   // SPEND_ITEMS; nil: testItems
	sameSite    bool             // the relay on the parent's host (whopsimtest.Config.SameSite)
	// db, when set, is the database instead of a fresh pgtest one.
	db *pgtest.DB
	// reporting, when set, routes reporting reads (a read replica).
	reporting func(primary *ledger.Store) *ledger.Reporting
}

// testItems is the catalog tests spend from unless they set their own: the
// one the app ships with.
var testItems = []billing.Item{
	{ID: "sticker", Title: "Sticker pack", Description: "A pack of animated stickers for the chat.", Cost: 5},
	{ID: "boost", Title: "Profile boost", Description: "Pin your profile to the top of the member list for a day.", Cost: 20},
	{ID: "review", Title: "Expert review", Description: "A written review of your work by the creator.", Cost: 50},
}

// withItems sets the spend catalog (SPEND_ITEMS).
func withItems(items ...billing.Item) appOption { return func(c *appConfig) { c.items = items } }

type appOption func(*appConfig)

// withSim changes the sandbox's options.
func withSim(f func(*whopsim.Options)) appOption { return func(c *appConfig) { f(&c.sim) } }

// withShare turns the revenue share on at bp basis points.
func withShare(bp int64) appOption { return func(c *appConfig) { c.shareBP = bp } }

// withPaymentsAPI makes look-ups use another API generation.
func withPaymentsAPI(api whop.PaymentsAPI) appOption {
	return func(c *appConfig) { c.paymentsAPI = api }
}

// sameSite puts the parent page and the framed app on one site, as make
// dev does (see whopsimtest.Config.SameSite).
func sameSite() appOption { return func(c *appConfig) { c.sameSite = true } }

// onDatabase runs the app on db (a primary with a standby of its own).
func onDatabase(db *pgtest.DB) appOption { return func(c *appConfig) { c.db = db } }

// withReporting routes the app's reporting reads through what r builds on
// the primary's store.
func withReporting(r func(primary *ledger.Store) *ledger.Reporting) appOption {
	return func(c *appConfig) { c.reporting = r }
}

// withoutPremium leaves premium unconfigured.
func withoutPremium() appOption { return func(c *appConfig) { c.noPremium = true } }

// withClient adds options to the app's Whop client.
func withClient(opts ...whop.Option) appOption {
	return func(c *appConfig) { c.client = append(c.client, opts...) }
}

// setup starts a fresh app and sandbox for one test. After the test it
// asserts the ledger invariant on everything the test did.
func setup(t *testing.T, opts ...appOption) *app {
	t.Helper()
	var handler atomic.Pointer[http.Handler]
	appSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(appSrv.Close)

	cfg := appConfig{sim: whopsim.Options{
		WebhookURL:   appSrv.URL + "/api/webhook",
		PaymentDelay: -1,
		RetryDelays:  []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond},
	}}
	for _, o := range opts {
		o(&cfg)
	}
	db := cfg.db
	if db == nil {
		db = pgtest.New(t)
	}
	env := whopsimtest.Start(t, whopsimtest.Config{Options: cfg.sim, AppURL: appSrv.URL, SameSite: cfg.sameSite})

	log := slog.New(slog.DiscardHandler)
	if os.Getenv("CREDITKIT_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	tokens, err := whop.NewTokenVerifier(env.Seed.App.ID, whop.WithJWKSURL(env.JWKSURL))
	if err != nil {
		t.Fatal(err)
	}
	// River as serve wires it, with workers; it runs only inside drain, and
	// a failed job waits an hour, so a test decides when retries come due.
	jobs, err := billing.NewJobs(db.Pool, billing.JobsConfig{Workers: 4, ReconcileEvery: time.Hour,
		RetryPolicy: hourLater{}, FetchPollInterval: 20 * time.Millisecond, Logger: log, TestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	store := ledger.NewStore(db.Pool, ledger.WithJobs(jobs))
	a := &app{jobs: jobs, t: t, env: env, sim: env.Sim, db: db, store: store, tokens: tokens, url: appSrv.URL,
		ctx: context.Background(), log: log, cfg: cfg, ahead: new(atomic.Int64)}
	if cfg.reporting != nil {
		a.reporting = cfg.reporting(store)
	}
	var h http.Handler
	h, a.billing, a.whop = a.build(cfg)
	handler.Store(&h)
	jobs.Register(a.billing)
	jobs.RegisterMemberJobs(billing.NewTopUps(a.billing, a.whop), billing.NewNotices(a.billing, a.whop))
	t.Cleanup(func() {
		m, err := store.CheckBalances(context.Background())
		if err != nil || len(m) != 0 {
			t.Errorf("ledger invariant: wallets whose balance is not the sum of their entries: %+v (err %v)", m, err)
		}
	})
	return a
}

// premiumCredits is what the test app grants premium members each period.
const premiumCredits = 50

// build wires a server on the app's database and sandbox with cfg: setup's
// own, or a second one (another API generation, a replica) for the same
// world. Each has its own billing service and so its own caches, as each
// replica of several would. A premium answer is trusted for an hour here,
// so what keeps a lapsed member out in these tests is the invalidation,
// not the expiry.
func (a *app) build(cfg appConfig) (http.Handler, *billing.Service, *whop.Client) {
	env := a.env
	premium := billing.PremiumConfig{ProductID: env.Seed.PremiumProductID, PlanID: env.Seed.PremiumPlanID,
		MonthlyCredits: premiumCredits, TTL: time.Hour}
	if cfg.noPremium {
		premium = billing.PremiumConfig{}
	}
	client := whop.New(env.Seed.App.APIKey, append([]whop.Option{whop.WithBaseURL(env.APIBase), whop.WithAppID(env.Seed.App.ID)}, cfg.client...)...)
	items := cfg.items
	if items == nil {
		items = testItems
	}
	bill := billing.New(client, a.store, billing.Config{
		CompanyID:               env.Seed.Owner.ID,
		Packages:                []billing.Package{{ID: "starter", Credits: 100, Price: 499}, {ID: "pro", Credits: 600, Price: 2499}},
		Items:                   items,
		Currency:                money.Currency("usd"),
		PaymentsAPI:             cfg.paymentsAPI,
		RevenueShareBasisPoints: cfg.shareBP,
		// Members reach the app through the relay, as through Whop's.
		AppURL:  env.RelayURL,
		Premium: premium,
	}, billing.WithLogger(a.log), billing.WithReporting(a.reporting), billing.WithClock(a.now))
	var reporting server.ReportingStats
	if a.reporting != nil {
		reporting = a.reporting
	}
	h := server.New(server.Deps{
		Logger:     a.log,
		Settings:   server.Settings{AppID: env.Seed.App.ID, Development: true, SandboxOrigins: []string{env.URL, env.RelayURL}},
		Ready:      a.store,
		Tokens:     a.tokens,
		Billing:    server.BillingOf(bill),
		Webhooks:   whop.NewWebhookVerifier(env.Seed.App.WebhookSecret),
		Pool:       a.db.Pool,
		Reconciler: a.store,
		Jobs:       a.store,
		JobRuns:    a.jobs,
		TokenStats: a.tokens,
		Reporting:  reporting,
		TopUps:     billing.NewTopUps(bill, client),
		Notices:    billing.NewNotices(bill, client),
	})
	return h, bill, client
}

// replica serves another instance of the app (see build) on its own test
// server, configured as setup's plus opts, and returns its URL and billing.
func (a *app) replica(opts ...appOption) (string, *billing.Service) {
	a.t.Helper()
	cfg := a.cfg
	for _, o := range opts {
		o(&cfg)
	}
	h, bill, _ := a.build(cfg)
	srv := httptest.NewServer(h)
	a.t.Cleanup(srv.Close)
	return srv.URL, bill
}

// drain starts River's workers, lets them run every job that is due until
// none is left waiting or running, stops them, and returns how many
// attempts they made (River counts an attempt as it takes a job).
func (a *app) drain() int {
	a.t.Helper()
	attempts := func() int {
		return a.count(`SELECT COALESCE(sum(attempt), 0)::int FROM river_job`)
	}
	before := attempts()
	if err := a.jobs.Start(a.ctx); err != nil {
		a.t.Fatalf("start jobs: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for a.count(`SELECT count(*) FROM river_job WHERE state IN ('available', 'running')`) > 0 {
		if time.Now().After(deadline) {
			a.t.Fatal("jobs still waiting or running after 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := a.jobs.Stop(a.ctx); err != nil {
		a.t.Fatalf("stop jobs: %v", err)
	}
	return attempts() - before
}

// advanceJobs makes every waiting retry and scheduled job due now, as if
// its time had come, with River's own JobRetry (what an operator would use).
func (a *app) advanceJobs() {
	a.t.Helper()
	res, err := a.jobs.Client().JobList(a.ctx, river.NewJobListParams().
		States(rivertype.JobStateRetryable, rivertype.JobStateScheduled).First(10000))
	if err != nil {
		a.t.Fatal(err)
	}
	for _, j := range res.Jobs {
		if _, err := a.jobs.Client().JobRetry(a.ctx, j.ID); err != nil {
			a.t.Fatal(err)
		}
	}
}

// hourLater is the tests' retry policy: a failed job waits an hour, that
// is until a test calls advanceJobs.
type hourLater struct{}

func (hourLater) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Hour) }

func (a *app) member(i int) string { return a.env.Seed.Members[i].ID }
func (a *app) experience() string  { return a.env.Seed.Creator.ExperienceID }

// call sends a request as user (no token when user is ""), with a JSON body.
func (a *app) call(method, path, user string, body any) (int, map[string]any, string) {
	a.t.Helper()
	return a.callAt(a.url, method, path, user, body)
}

// callAt is call against another instance of the app (see replica).
func (a *app) callAt(base, method, path, user string, body any) (int, map[string]any, string) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		tok, err := a.sim.Token(user)
		if err != nil {
			a.t.Fatalf("token for %s: %v", user, err)
		}
		req.Header.Set(whop.HeaderUserToken, tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return res.StatusCode, out, string(raw)
}

// charge starts a purchase as user and returns the API's answer.
func (a *app) charge(user, pkg string) (checkoutID, planID, purchaseID string) {
	a.t.Helper()
	return a.chargeIn(a.experience(), user, pkg)
}

// chargeIn is charge in experience exp.
func (a *app) chargeIn(exp, user, pkg string) (checkoutID, planID, purchaseID string) {
	a.t.Helper()
	code, out, raw := a.call("POST", "/api/charge", user, map[string]string{"experience_id": exp, "package": pkg})
	if code != 200 {
		a.t.Fatalf("charge in %s: %d %s", exp, code, raw)
	}
	return out["id"].(string), out["planId"].(string), out["purchase_id"].(string)
}

// pay completes a checkout in the sandbox as the modal's Pay button does.
func (a *app) pay(checkoutID, planID, user string) string {
	a.t.Helper()
	res, err := a.sim.Pay(whopsim.Purchase{CheckoutID: checkoutID, PlanID: planID, UserID: user})
	if err != nil {
		a.t.Fatalf("pay: %v", err)
	}
	return res.ReceiptID
}

// payPending starts a bank payment on a checkout that stays pending, and
// waits for its payment.pending to be delivered.
func (a *app) payPending(checkoutID, planID, user string) string {
	a.t.Helper()
	res, err := a.sim.PayPending(whopsim.Purchase{CheckoutID: checkoutID, PlanID: planID, UserID: user})
	if err != nil {
		a.t.Fatalf("pay pending: %v", err)
	}
	a.settle()
	return res.ReceiptID
}

// failLosingWebhook fails a pending payment ("The bank declined the
// transfer.") while its payment.failed is lost, as if the app were down
// through Whop's retries.
func (a *app) failLosingWebhook(paymentID string) {
	a.t.Helper()
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	if err := a.sim.SettlePending(paymentID, false); err != nil {
		a.t.Fatalf("fail pending: %v", err)
	}
	a.settle()
}

// settle waits until the sandbox has no delivery queued or in flight.
func (a *app) settle() {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	if err := a.sim.WaitIdle(ctx); err != nil {
		a.t.Fatalf("deliveries did not settle: %v", err)
	}
}

func (a *app) balance(user string) int64 {
	a.t.Helper()
	b, err := a.store.Balance(a.ctx, a.experience(), user)
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

// delivery is how the app recorded the webhook delivery id: its outcome
// and the purchase it was about ("" for none).
func (a *app) delivery(id string) (outcome, purchaseID string) {
	a.t.Helper()
	if err := a.db.Pool.QueryRow(a.ctx, `SELECT outcome, purchase_id FROM webhook_deliveries WHERE id = $1`, id).
		Scan(&outcome, &purchaseID); err != nil {
		a.t.Fatalf("delivery %s: %v", id, err)
	}
	return outcome, purchaseID
}

func (a *app) count(sql string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.db.Pool.QueryRow(a.ctx, sql, args...).Scan(&n); err != nil {
		a.t.Fatalf("%s: %v", sql, err)
	}
	return n
}
