package billing

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// roundTrips counts what a pool sends Postgres: each statement (BEGIN and
// COMMIT included) and each batch is one round trip once its statements
// are prepared, which the first delivery of a test does.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestPaymentDeliveryIsOneRoundTrip counts the database round trips of a
// webhook delivery of a credit sale that earns a revenue share: one, the
// statement that writes the purchase, the wallet, the ledger entry, the
// share, its job and the delivery record. A repeat this process has not
// seen costs two, neither of which writes: that statement, which finds the
// purchase paid, then creditkit_settle, which fails on the delivery's id.
// One it has seen costs none.
func TestPaymentDeliveryIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	pool, trips := tracedPool(t)
	jobs, err := NewJobs(pool, JobsConfig{TestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	store := ledger.NewStore(pool, ledger.WithJobs(jobs))
	conf := Config{CompanyID: "biz_owner", Currency: money.USD, RevenueShareBasisPoints: 1000}
	s := New(nil, store, conf)
	jobs.Register(s)

	deliver := func(s *Service, n int) string {
		t.Helper()
		if n > 0 {
			if _, _, err := store.CreatePurchase(ctx, ledger.NewPurchase{ID: fmt.Sprintf("pur_%d", n), UserID: "user_1",
				ExperienceID: "exp_1", CompanyID: "biz_creator", PackageID: "starter", Credits: 100, Price: 499,
				Currency: "usd", CheckoutID: fmt.Sprintf("ch_%d", n), PlanID: "plan_1"}); err != nil {
				t.Fatal(err)
			}
		}
		n = max(n, -n)
		body := fmt.Sprintf(`{"id":"msg_%d","api_version":"v1","type":"payment.succeeded","timestamp":"2026-01-02T03:04:05Z",`+
			`"company_id":"biz_owner","data":{"id":"pay_%d","status":"paid","substatus":"succeeded","currency":"usd",`+
			`"subtotal":4.99,"total":4.99,"usd_total":4.99,"refunded_amount":0,"user":{"id":"user_1"},`+
			`"company":{"id":"biz_owner"},"checkout_configuration_id":"ch_%d","metadata":{"creditkit_purchase_id":"pur_%d"},`+
			`"billing_reason":"one_time","created_at":"2026-01-02T03:04:05Z","paid_at":"2026-01-02T03:04:05Z"}}`, n, n, n, n)
		del := whop.Delivery{ID: fmt.Sprintf("msg_%d", n), Scheme: whop.SchemeStandard, Unix: 1_767_323_045}
		trips.n.Store(0)
		out, err := s.Deliveries.Deliver(ctx, del, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		// The typed outcome agrees with its words.
		want := Applied
		if out.Outcome == "duplicate" {
			want = Duplicate
		}
		if out.Kind != want || (want == Applied && out.Type != "payment.succeeded") {
			t.Fatalf("delivery %s: kind %q, type %q for %q", del.ID, out.Kind, out.Type, out.Outcome)
		}
		return out.Outcome
	}
	if out := deliver(s, 1); out != "credited 100, took back 0" {
		t.Fatalf("warm-up delivery: %q", out)
	}
	out := deliver(s, 2)
	fresh := trips.n.Load()
	if out != "credited 100, took back 0" || fresh != 1 {
		t.Fatalf("fresh delivery: %q in %d round trips, want 1", out, fresh)
	}
	out = deliver(New(nil, store, conf), -2) // another replica, which has not seen it
	repeat := trips.n.Load()
	if out != "duplicate" || repeat != 2 {
		t.Fatalf("repeat on another replica: %q in %d round trips, want 2", out, repeat)
	}
	out = deliver(s, -2)
	if out != "duplicate" || trips.n.Load() != 0 {
		t.Fatalf("repeat on the replica that recorded it: %q in %d round trips, want 0", out, trips.n.Load())
	}
	var shares, jobRows, deliveries int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM revenue_shares), (SELECT count(*) FROM river_job),
		(SELECT count(*) FROM webhook_deliveries)`).Scan(&shares, &jobRows, &deliveries); err != nil {
		t.Fatal(err)
	}
	if shares != 2 || jobRows != 2 || deliveries != 2 {
		t.Fatalf("shares %d, jobs %d, deliveries %d; want 2 of each", shares, jobRows, deliveries)
	}
	t.Logf("round trips: fresh delivery %d, repeat on another replica %d, repeat on the same replica 0", fresh, repeat)
}

// TestMemberPageIsOneRoundTrip counts the round trips of the member's page
// (Wallet) once this replica's caches hold the member's access and premium
// answers: one, the batch that reads the balance, the receipts and the
// membership clock, which is all the bench's floor runs; none of Whop.
// A premium member's page adds the read of their recorded membership (and,
// when there is one, of this period's grant; here Whop grants premium to
// a member whose membership the app has not recorded).
func TestMemberPageIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	pool, trips := tracedPool(t)
	store := ledger.NewStore(pool)
	w := &accessTable{grants: map[[2]string]whop.Access{
		{"user_1", "exp_1"}:        {HasAccess: true, Level: whop.AccessCustomer},
		{"user_p", "exp_1"}:        {HasAccess: true, Level: whop.AccessCustomer},
		{"user_p", "prod_premium"}: {HasAccess: true, Level: whop.AccessCustomer},
		{"user_q", "exp_1"}:        {HasAccess: true, Level: whop.AccessCustomer},
		{"user_q", "prod_premium"}: {HasAccess: true, Level: whop.AccessCustomer},
	}}
	s := New(w, store, Config{CompanyID: "biz_owner", Currency: money.USD,
		Premium: PremiumConfig{ProductID: "prod_premium", PlanID: "plan_premium", MonthlyCredits: 50}})
	for i := range 3 {
		if _, _, err := store.CreatePurchase(ctx, ledger.NewPurchase{ID: fmt.Sprintf("pur_%d", i), UserID: "user_1",
			ExperienceID: "exp_1", CompanyID: "biz_creator", PackageID: "starter", Credits: 100, Price: 499,
			Currency: "usd", CheckoutID: fmt.Sprintf("ch_%d", i), PlanID: "plan_1"}); err != nil {
			t.Fatal(err)
		}
	}
	page := func(user string) (Wallet, int64, int) {
		t.Helper()
		w.mu.Lock()
		w.asked = 0
		w.mu.Unlock()
		trips.n.Store(0)
		wallet, err := s.Credits.Wallet(ctx, user, "exp_1", false)
		if err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		return wallet, trips.n.Load(), w.asked
	}
	if _, _, asked := page("user_1"); asked != 2 { // access to the experience, then premium
		t.Fatalf("first page asked Whop %d times, want 2", asked)
	}
	wallet, n, asked := page("user_1")
	if n != 1 || asked != 0 {
		t.Errorf("member's page: %d round trips and %d questions to Whop, want 1 and 0", n, asked)
	}
	if len(wallet.Receipts) != 3 || wallet.Premium.Member || !wallet.Premium.Enabled {
		t.Errorf("member's page read %d receipts, premium %+v", len(wallet.Receipts), wallet.Premium)
	}
	page("user_p")
	if wallet, n, asked := page("user_p"); n != 2 || asked != 0 || !wallet.Premium.Member {
		t.Errorf("premium member's page: %d round trips and %d questions to Whop (member %v), want 2 and 0",
			n, asked, wallet.Premium.Member)
	}

	// A page that shows the balance alone (auto top-up) reads one row and
	// asks Whop only about access, never about premium: a premium member
	// this replica has not seen costs one question, where their wallet
	// costs two.
	w.mu.Lock()
	w.asked = 0
	w.mu.Unlock()
	trips.n.Store(0)
	bal, err := s.Credits.Balance(ctx, "user_q", "exp_1")
	w.mu.Lock()
	asked = w.asked
	w.mu.Unlock()
	if err != nil || bal != 0 || trips.n.Load() != 1 || asked != 1 {
		t.Errorf("balance alone: %d (%v) in %d round trips and %d questions to Whop, want 0 in 1 and 1",
			bal, err, trips.n.Load(), asked)
	}
}

// tracedPool is a pool of one connection to a fresh database (so a warm-up
// prepares every statement on it) whose round trips are counted.
func tracedPool(t *testing.T) (*pgxpool.Pool, *roundTrips) {
	t.Helper()
	db := pgtest.New(t)
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, trips
}
