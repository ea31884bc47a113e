//go:build faults

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// stack is one scenario's world: a database of its own on the suite's
// cluster, the Whop sandbox, replicas of `creditkit serve` on that
// database (two unless the scenario says) and the balancer that splits
// Whop's deliveries between them.
type stack struct {
	t      *testing.T
	ctx    context.Context
	dbURL  string        // the replicas' DATABASE_URL
	pool   *pgxpool.Pool // the test's own, small, direct: the auditor's view
	store  *ledger.Store
	env    *whopsimtest.Env
	sim    *whopsim.Sim
	whop   *whop.Client
	reps   []*replica
	a, b   *replica // the first two, which every scenario has
	lb     *balancer
	hook   string // the balancer's webhook URL, which the sandbox posts to
	client *http.Client

	tokMu  sync.Mutex
	tokens map[string]cachedToken
	buys   int // workloads bought so far (see buy)
}

type cachedToken struct {
	token  string
	minted time.Time
}

// stackConfig is what scenarios vary.
type stackConfig struct {
	// reconcileEvery is RECONCILE_INTERVAL. Scenarios that must prove the
	// webhooks alone were exact set it long enough never to fire twice.
	reconcileEvery time.Duration
	// retryDelays are the sandbox's webhook retries; nil is Whop's 10/20/40 s.
	retryDelays []time.Duration
	// env adds to or overrides the replicas' environment.
	env map[string]string
	// replicas is how many replicas run (0: 2).
	replicas int
	// appURL and auditURL, when set, are a database elsewhere than the
	// suite's cluster: the replicas' DATABASE_URL (a pooler, say) and the
	// auditor's direct way to the same database.
	appURL, auditURL string
	// takeFirstPort has something listen on replica A's port until every
	// replica is ready, as another process that picked the same port would.
	takeFirstPort bool
}

// Connection budget: two replicas × 20 (serve's default pool) + this pool
// of 8 + a migration connection each stays far below the cluster's 200.
const auditorConns = 8

// auditorName is the auditor's application_name, so a scenario counting
// the app's connections in pg_stat_activity can leave it out.
const auditorName = "faults-auditor"

// replicaNames names the replicas in order.
var replicaNames = []string{"replica-A", "replica-B", "replica-C", "replica-D", "replica-E", "replica-F"}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// webhookConcurrency is how many deliveries the sandbox has in flight at
// once: a storm, not a queue, as Whop delivers concurrently. It bounds how
// many answers can still arrive for work that began before an instant.
const webhookConcurrency = 16

func newStack(t *testing.T, cfg stackConfig) *stack {
	t.Helper()
	ctx := context.Background()
	s := &stack{t: t, ctx: ctx, dbURL: cfg.appURL, tokens: map[string]cachedToken{},
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	auditURL := cfg.auditURL
	if s.dbURL == "" {
		db := "faults_" + strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
		if err := suite.cluster.CreateDatabase(ctx, db); err != nil {
			t.Fatalf("create database: %v", err)
		}
		s.dbURL, auditURL = suite.cluster.URL(db), suite.cluster.URL(db)
	}
	n := cfg.replicas
	if n == 0 {
		n = 2
	}
	ports, urls := make([]int, n), make([]string, n)
	for i := range ports {
		ports[i] = freeport.For(t)
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", ports[i])
	}
	s.lb = newBalancer(urls...)
	lbSrv := httptest.NewServer(s.lb)
	t.Cleanup(lbSrv.Close)
	s.hook = lbSrv.URL + "/api/webhook"

	// The relay's app is replica A where it starts; no scenario opens the
	// relay, so it is not told if A moves (replica.awaitReady).
	s.env = whopsimtest.Start(t, whopsimtest.Config{AppURL: urls[0], Options: whopsim.Options{
		WebhookURL:         s.hook,
		WebhookConcurrency: webhookConcurrency,
		KeepAttempts:       1 << 20,
		PaymentDelay:       -1,
		RetryDelays:        cfg.retryDelays,
	}})
	s.sim = s.env.Sim
	seed := s.env.Seed
	s.whop = whop.New(seed.App.APIKey, whop.WithBaseURL(s.env.APIBase), whop.WithAppID(seed.App.ID))

	env := map[string]string{
		"APP_ENV":                  "production",
		"DATABASE_URL":             s.dbURL,
		"WHOP_API_KEY":             seed.App.APIKey,
		"WHOP_APP_ID":              seed.App.ID,
		"WHOP_COMPANY_ID":          seed.Owner.ID,
		"WHOP_WEBHOOK_SECRET":      seed.App.WebhookSecret,
		"WHOP_BASE_URL":            s.env.APIBase,
		"WHOP_USER_TOKEN_JWKS_URL": s.env.JWKSURL,
		"CREDIT_PACKAGES":          "starter:100:4.99,pro:600:24.99",
		"RECONCILE_INTERVAL":       cfg.reconcileEvery.String(),
		"SHUTDOWN_TIMEOUT":         "5s",
		"WORKERS":                  "4",
	}
	for k, v := range cfg.env {
		env[k] = v
	}
	for i, port := range ports {
		r := newReplica(t, replicaNames[i], port, env)
		r.moved = func(url string) { s.lb.move(i, url) }
		s.reps = append(s.reps, r)
	}
	s.a, s.b = s.reps[0], s.reps[1]
	if cfg.takeFirstPort {
		taken, err := net.Listen("tcp", ":"+strconv.Itoa(ports[0]))
		if err != nil {
			t.Fatalf("take replica A's port: %v", err)
		}
		defer taken.Close()
	}
	// All at once, as a rolling deploy would: they race to migrate.
	for _, r := range s.reps {
		r.launch()
	}
	for _, r := range s.reps {
		r.awaitReady(60 * time.Second)
	}

	pool, err := pgxpool.New(ctx, auditURL+fmt.Sprintf("&pool_max_conns=%d&application_name=%s", auditorConns, auditorName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s.pool, s.store = pool, ledger.NewStore(pool)
	return s
}

// token is a user token as Whop's proxy would add it; minted afresh every
// minute so a long scenario never sends an expired one.
func (s *stack) token(user string) string {
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	if c, ok := s.tokens[user]; ok && time.Since(c.minted) < time.Minute {
		return c.token
	}
	tok, err := s.sim.Token(user)
	if err != nil {
		s.t.Fatalf("token for %s: %v", user, err)
	}
	s.tokens[user] = cachedToken{tok, time.Now()}
	return tok
}

// call sends a member's request to one replica. It returns status 0 and
// the error text when no answer came (a killed replica).
func (s *stack) call(r *replica, method, path, user string, body any) (int, map[string]any, string) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(s.ctx, method, r.url()+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set(whop.HeaderUserToken, s.token(user))
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return res.StatusCode, out, string(raw)
}

// count runs a counting query as the auditor.
func (s *stack) count(sql string, args ...any) int64 {
	s.t.Helper()
	var n int64
	if err := s.pool.QueryRow(s.ctx, sql, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// eachRow runs a query as the auditor, scans every row into dest and calls
// fn after each. Any error fails the test, including one that ends the rows
// early, which a bare rows.Next loop would take for the end of the data.
func (s *stack) eachRow(sql string, dest []any, fn func()) {
	s.t.Helper()
	rows, _ := s.pool.Query(s.ctx, sql) // a failed query surfaces from ForEachRow
	if _, err := pgx.ForEachRow(rows, dest, func() error { fn(); return nil }); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

// replicas returns every replica, for round-robin use by index.
func (s *stack) replicas() []*replica { return s.reps }

// requestPayouts sends n payouts of $1.00 from the creator's company to the
// first member, each from its own goroutine through the replicas in turn,
// retried with its idempotency key (prefix-i) as an admin's browser would,
// pause apart (at least 100 ms), until one answer is 200 or 202. Only what
// a retry can change is retried: no answer, 429 and 5xx (the app's one 409
// here, idempotency_conflict, is for good). The app records nothing for a
// request Whop failed before its intent (502), so a payout given up on
// would never be paid: one refused (a 4xx) or still unanswered after
// within fails the test when the returned function is called. (Five tries,
// as this once made, gave up on a payout now and then in scenario 4, whose
// Whop fails about a third of these requests, and its wait for 20 paid
// payouts timed out.) Requests still going when the test ends stop. The
// returned function waits for them all and counts every answer by status.
func (s *stack) requestPayouts(prefix string, n int, pause, within time.Duration) (wait func() map[int]int) {
	seed := s.env.Seed
	pause = max(pause, 100*time.Millisecond)
	done := make(chan struct{})
	s.t.Cleanup(func() { close(done) })
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[int]int{}
	var unanswered []string
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("%s-%d", prefix, i)
			body := map[string]any{"company_id": seed.Creator.ID, "recipient": seed.Members[0].Username,
				"amount": "1.00", "idempotency_key": key}
			deadline := time.Now().Add(within)
			for try := 0; ; try++ {
				code, _, raw := s.call(s.replicas()[(i+try)%2], "POST", "/api/payouts", seed.Admin.ID, body)
				mu.Lock()
				answers[code]++
				mu.Unlock()
				if code == http.StatusOK || code == http.StatusAccepted {
					return
				}
				retry := code == 0 || code == http.StatusTooManyRequests || code >= 500
				if !retry || time.Now().After(deadline) {
					mu.Lock()
					unanswered = append(unanswered, fmt.Sprintf("%s (%d tries, the last answered %d %.200s)", key, try+1, code, raw))
					mu.Unlock()
					return
				}
				select {
				case <-done:
					return
				case <-time.After(pause):
				}
				select {
				case <-done: // the test ended as the pause did
					return
				default:
				}
			}
		})
	}
	return func() map[int]int {
		s.t.Helper()
		wg.Wait()
		if len(unanswered) > 0 {
			s.t.Fatalf("%d payouts refused or never answered 200 or 202 in %v: %s; answers by status %v",
				len(unanswered), within, strings.Join(unanswered, ", "), answers)
		}
		return answers
	}
}
