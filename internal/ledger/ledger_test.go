package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

type bundle struct {
	store *ledger.Store
	db    *pgtest.DB
	ctx   context.Context
}

// riverJobs inserts the ledger's jobs with an insert-only River client, as
// billing does (unique by their arguments).
type riverJobs struct{ c *river.Client[pgx.Tx] }

func (r riverJobs) InsertJobTx(ctx context.Context, tx pgx.Tx, args ledger.JobArgs, runAt time.Time) error {
	_, err := r.c.InsertTx(ctx, tx, args, &river.InsertOpts{ScheduledAt: runAt, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// JobRow is the row InsertJobTx writes, as billing computes it for the
// settle statement (billing's test holds it to River's own).
func (r riverJobs) JobRow(args ledger.JobArgs) (ledger.JobRow, error) {
	return billing.RiverJobRow(args, river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}, river.MaxAttemptsDefault)
}

func setup(t *testing.T) *bundle {
	t.Helper()
	db := pgtest.New(t)
	client, err := river.NewClient(riverpgxv5.New(db.Pool), &river.Config{SkipUnknownJobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{store: ledger.NewStore(db.Pool, ledger.WithJobs(riverJobs{client})), db: db, ctx: context.Background()}
	t.Cleanup(func() { b.assertBalancesMatchLedger(t) })
	return b
}

// assertBalancesMatchLedger runs after every test: whatever a test did, every
// wallet's balance must equal the sum of its entries.
func (b *bundle) assertBalancesMatchLedger(t *testing.T) {
	t.Helper()
	m, err := b.store.CheckBalances(b.ctx)
	if err != nil {
		t.Errorf("check balances: %v", err)
	}
	if len(m) != 0 {
		t.Errorf("wallets whose balance differs from their ledger: %+v", m)
	}
	g, err := b.store.CheckGrants(b.ctx)
	if err != nil || len(g) != 0 {
		t.Errorf("grants whose spent counter differs from their spends: %+v (err %v)", g, err)
	}
}

func (b *bundle) purchase(t *testing.T, id, user string, credits, price int64) ledger.Purchase {
	t.Helper()
	p, created, err := b.store.CreatePurchase(b.ctx, ledger.NewPurchase{
		ID: id, UserID: user, ExperienceID: "exp_1", CompanyID: "biz_1", PackageID: "starter",
		Credits: credits, Price: price, Currency: "usd", CheckoutID: "ch_" + id, PlanID: "plan_" + id,
		PurchaseURL: "https://whop.com/checkout/" + id, IdempotencyKey: "key-" + id,
	})
	if err != nil || !created {
		t.Fatalf("create purchase %s: created=%t err=%v", id, created, err)
	}
	return p
}

func TestCreatePurchaseRecordsEveryFieldAndReplaysByKey(t *testing.T) {
	b := setup(t)
	before := time.Now().Add(-time.Minute)
	p := b.purchase(t, "pur_a", "user_1", 100, 499)
	want := ledger.Purchase{
		ID: "pur_a", UserID: "user_1", ExperienceID: "exp_1", CompanyID: "biz_1", PackageID: "starter",
		Credits: 100, Price: 499, Currency: "usd", CheckoutID: "ch_pur_a", PlanID: "plan_pur_a",
		PurchaseURL: "https://whop.com/checkout/pur_a", IdempotencyKey: "key-pur_a", Status: ledger.PurchasePending,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p != want {
		t.Fatalf("purchase = %+v\nwant %+v", p, want)
	}
	if p.CreatedAt.Before(before) || !p.FulfilledAt.IsZero() {
		t.Fatalf("times: created %v fulfilled %v", p.CreatedAt, p.FulfilledAt)
	}
	again, created, err := b.store.CreatePurchase(b.ctx, ledger.NewPurchase{
		ID: "pur_b", UserID: "user_1", ExperienceID: "exp_1", CompanyID: "biz_1", PackageID: "pro",
		Credits: 600, Price: 2499, Currency: "usd", CheckoutID: "ch_other", PlanID: "plan_other", IdempotencyKey: "key-pur_a",
	})
	if err != nil || created || again != p {
		t.Fatalf("same key: created=%t err=%v purchase=%+v", created, err, again)
	}
	if _, err := b.store.Purchase(b.ctx, "pur_b"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("a replayed key must write nothing, Purchase(pur_b) err = %v", err)
	}
}

func TestSettleCreditsOnceAndRecordsDelivery(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	d := &ledger.Delivery{ID: "msg_1", Type: "payment.succeeded", Scheme: "standard", CompanyID: "biz_1", ObjectID: "pay_1"}
	st := ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}

	res, err := b.store.Settle(b.ctx, st, d)
	if err != nil {
		t.Fatal(err)
	}
	if res.Credited != 100 || res.TakenBack != 0 || res.Balance != 100 || res.Purchase.Status != ledger.PurchasePaid ||
		res.Purchase.PaymentID != "pay_1" || res.Purchase.PaidAmount != 499 || res.Purchase.FulfilledAt.IsZero() {
		t.Fatalf("first settle = %+v", res)
	}
	if _, err := b.store.Settle(b.ctx, st, d); !errors.Is(err, ledger.ErrDuplicateDelivery) {
		t.Fatalf("same delivery again: err = %v, want ErrDuplicateDelivery", err)
	}
	res, err = b.store.Settle(b.ctx, st, nil)
	if err != nil || res.Credited != 0 || res.Balance != 100 {
		t.Fatalf("settle again without delivery (confirm path) = %+v, %v", res, err)
	}
	entries, _ := b.store.Entries(b.ctx, "exp_1", "user_1")
	if len(entries) != 1 || entries[0].Kind != ledger.KindPurchase || entries[0].Amount != 100 ||
		entries[0].BalanceAfter != 100 || entries[0].Reference != "pur_a" || entries[0].IdempotencyKey != "purchase:pur_a" {
		t.Fatalf("entries = %+v", entries)
	}
	dl, _ := b.store.RecentDeliveries(b.ctx, 10)
	if len(dl) != 1 || dl[0].Delivery != *d || dl[0].Outcome != "fulfilled: 100 credits" || dl[0].PurchaseID != "pur_a" ||
		dl[0].ReceivedAt.IsZero() {
		t.Fatalf("deliveries = %+v", dl)
	}
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_2", PaidAmount: 499}, nil); !errors.Is(err, ledger.ErrPaidByOtherPayment) {
		t.Fatalf("second payment for a paid purchase: err = %v", err)
	}
}

func TestSettleConcurrentlyCreditsOnce(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	var wg sync.WaitGroup
	var mu sync.Mutex
	credited, dups := int64(0), 0
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var d *ledger.Delivery
			if i%2 == 0 { // half as the same webhook delivery, half as confirm calls
				d = &ledger.Delivery{ID: "msg_same", Type: "payment.succeeded", Scheme: "standard"}
			}
			res, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, d)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ledger.ErrDuplicateDelivery):
				dups++
			case err != nil:
				t.Errorf("settle: %v", err)
			default:
				credited += res.Credited
			}
		}(i)
	}
	wg.Wait()
	bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1")
	if credited != 100 || bal != 100 || dups != 19 {
		t.Fatalf("credited %d, balance %d, duplicate deliveries %d; want 100, 100, 19", credited, bal, dups)
	}
}

func TestSettleRefundsInProportionOnce(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	steps := []struct {
		refundedAmount, refundedCredits int64
		takenBack, balance              int64
	}{
		{0, 0, 0, 100},
		{250, 51, 51, 49}, // partial: ceil(100*250/499) = 51
		{250, 51, 0, 49},  // the same refund seen again takes nothing
		{499, 100, 49, 0}, // the rest
		{499, 100, 0, 0},  // and again nothing
		{600, 130, 0, 0},  // never more than the purchase's credits
	}
	for i, s := range steps {
		res, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499,
			RefundedAmount: s.refundedAmount, RefundedCredits: s.refundedCredits}, nil)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if res.TakenBack != s.takenBack || res.Balance != s.balance {
			t.Fatalf("step %d: took %d balance %d, want %d and %d", i, res.TakenBack, res.Balance, s.takenBack, s.balance)
		}
	}
	p, _ := b.store.Purchase(b.ctx, "pur_a")
	if p.RefundedAmount != 600 || p.RefundedCredits != 100 || p.Status != ledger.PurchasePaid {
		t.Fatalf("purchase after refunds = %+v", p)
	}
}

func TestMarkPurchase(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	failed := ledger.PaymentState{Status: ledger.PurchaseFailed, Reason: "card declined", Buyer: "alice"}
	m, err := b.store.MarkPurchase(b.ctx, "pur_a", failed, &ledger.Delivery{ID: "msg_f", Type: "payment.failed", Scheme: "standard"})
	if p := m.Purchase; err != nil || m.Ignored != "" || p.Status != ledger.PurchaseFailed || p.FailureReason != "card declined" || p.BuyerUsername != "alice" {
		t.Fatalf("mark failed = %+v, %v", m, err)
	}
	// No name leaves the one known.
	m, err = b.store.MarkPurchase(b.ctx, "pur_a", ledger.PaymentState{Status: ledger.PurchaseFailed, Reason: "card declined again"}, nil)
	if p := m.Purchase; err != nil || m.Ignored != "" || p.FailureReason != "card declined again" || p.BuyerUsername != "alice" {
		t.Fatalf("mark failed without a name = %+v, %v", m, err)
	}
	// A failed checkout can still be paid on a retry; then it stays paid,
	// under the name the paying payment gives.
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499, BuyerUsername: "alice2"}, nil); err != nil {
		t.Fatal(err)
	}
	m, err = b.store.MarkPurchase(b.ctx, "pur_a", ledger.PaymentState{Status: ledger.PurchaseFailed, Reason: "late failure", Buyer: "mallory"}, nil)
	if p := m.Purchase; err != nil || m.Ignored != "purchase already paid" || p.Status != ledger.PurchasePaid || p.FailureReason != "" || p.BuyerUsername != "alice2" {
		t.Fatalf("a paid purchase must not move back: %+v, %v", m, err)
	}
	dl, _ := b.store.RecentDeliveries(b.ctx, 5)
	if len(dl) != 1 || dl[0].Outcome != "purchase failed" {
		t.Fatalf("deliveries = %+v", dl)
	}
	if _, err := b.store.MarkPurchase(b.ctx, "pur_missing", failed, nil); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("missing purchase: %v", err)
	}
}

// TestMarkPurchaseKeepsOlderStatesOut: Whop's webhooks come in any order
// and a checkout can see several payments, so each payment's latest state
// is kept with Whop's time of it (the payment's updated_at), and the
// purchase's status is derived from all of them. Of one payment a later
// state wins (failed, at equal times; the very state again is "already"),
// whatever came between; the purchase is processing while any payment is
// under way, else failed with the newest failure's reason. A state of
// unknown payment is recorded as before and leaves the recorded payment
// and time.
func TestMarkPurchaseKeepsOlderStatesOut(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	state := func(status ledger.PurchaseStatus, reason, buyer, pay string, s int) ledger.PaymentState {
		return ledger.PaymentState{Status: status, Reason: reason, Buyer: buyer, PaymentID: pay, At: at(s)}
	}
	failed, processing := ledger.PurchaseFailed, ledger.PurchaseProcessing
	steps := []struct {
		name    string
		state   ledger.PaymentState
		ignored string
		status  ledger.PurchaseStatus
		reason  string
		buyer   string
		pay     string // attempt_payment_id afterwards
		at      int    // attempt_at afterwards, in seconds after t0
	}{
		{"card A declined", state(failed, "card declined", "alice", "pay_a", 20),
			"", failed, "card declined", "alice", "pay_a", 20},
		{"A's pending, late", state(processing, "", "alice2", "pay_a", 10),
			"an earlier state of the payment arrived late: purchase stays failed", failed, "card declined", "alice", "pay_a", 20},
		{"A's pending, as old as its failure", state(processing, "", "", "pay_a", 20),
			"an earlier state of the payment arrived late: purchase stays failed", failed, "card declined", "alice", "pay_a", 20},
		{"A's decline again, as a new delivery", state(failed, "card declined", "alice", "pay_a", 20),
			"purchase already failed", failed, "card declined", "alice", "pay_a", 20},
		{"bank payment B under way", state(processing, "", "alice3", "pay_b", 30),
			"", processing, "", "alice3", "pay_b", 30},
		{"A's decline again, late", state(failed, "card declined", "", "pay_a", 20),
			"another payment of the purchase is under way: purchase stays processing", processing, "", "alice3", "pay_b", 30},
		{"card C declined while B is under way", state(failed, "do not honor", "", "pay_c", 40),
			"another payment of the purchase is under way: purchase stays processing", processing, "", "alice3", "pay_b", 30},
		{"B fails", state(failed, "insufficient funds", "", "pay_b", 50),
			"", failed, "insufficient funds", "alice3", "pay_b", 50},
		{"C's decline, older than B's failure", state(failed, "do not honor", "", "pay_c", 40),
			"an earlier failure arrived late: purchase stays failed", failed, "insufficient funds", "alice3", "pay_b", 50},
		{"bank payment D's pending, older than B's failure", state(processing, "", "", "pay_d", 45),
			"", processing, "", "alice3", "pay_d", 45},
		{"a pending of unknown time", ledger.PaymentState{Status: processing},
			"", processing, "", "alice3", "pay_d", 45},
		{"D's pending, as old as recorded", state(processing, "", "", "pay_d", 45),
			"purchase already processing", processing, "", "alice3", "pay_d", 45},
		{"D fails", state(failed, "expired card", "", "pay_d", 60),
			"", failed, "expired card", "alice3", "pay_d", 60},
		// Every payment's state is kept, not only the purchase's latest:
		// A's failure, long replaced by B's and D's, still outranks A's
		// pending delivered after all of them.
		{"A's pending, after B's and D's failures", state(processing, "", "", "pay_a", 10),
			"an earlier state of the payment arrived late: purchase stays failed", failed, "expired card", "alice3", "pay_d", 60},
		{"B's pending, late", state(processing, "", "", "pay_b", 30),
			"an earlier state of the payment arrived late: purchase stays failed", failed, "expired card", "alice3", "pay_d", 60},
		{"a new payment F under way", state(processing, "", "", "pay_f", 70),
			"", processing, "", "alice3", "pay_f", 70},
		{"C's decline again", state(failed, "do not honor", "", "pay_c", 40),
			"another payment of the purchase is under way: purchase stays processing", processing, "", "alice3", "pay_f", 70},
		{"F fails: the newest failure tells why", state(failed, "card lost", "", "pay_f", 80),
			"", failed, "card lost", "alice3", "pay_f", 80},
	}
	for i, s := range steps {
		id := fmt.Sprintf("msg_%d", i)
		m, err := b.store.MarkPurchase(b.ctx, "pur_a", s.state, &ledger.Delivery{ID: id, Type: "payment.x", Scheme: "standard"})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var pay, outcome, linked string
		var attemptAt time.Time
		if err := b.db.Pool.QueryRow(b.ctx, `SELECT p.attempt_payment_id, p.attempt_at, d.outcome, d.purchase_id
			FROM purchases p, webhook_deliveries d WHERE p.id = 'pur_a' AND d.id = $1`, id).Scan(&pay, &attemptAt, &outcome, &linked); err != nil {
			t.Fatal(err)
		}
		wantOutcome := "purchase " + string(s.state.Status)
		if s.ignored != "" {
			wantOutcome = "ignored: " + s.ignored
		}
		p := m.Purchase
		if m.Ignored != s.ignored || p.Status != s.status || p.FailureReason != s.reason || p.BuyerUsername != s.buyer ||
			pay != s.pay || !attemptAt.Equal(at(s.at)) || outcome != wantOutcome || linked != "pur_a" {
			t.Fatalf("%s: ignored %q, purchase %s %q buyer %q, attempt %s at %v, delivery %q of %q;\nwant %q, %s %q %q, %s at %v, %q of pur_a",
				s.name, m.Ignored, p.Status, p.FailureReason, p.BuyerUsername, pay, attemptAt, outcome, linked,
				s.ignored, s.status, s.reason, s.buyer, s.pay, at(s.at), wantOutcome)
		}
	}
	// Each payment's latest state, as kept, newest first.
	got, err := b.store.PaymentAttempts(b.ctx, "pur_a")
	if err != nil {
		t.Fatal(err)
	}
	want := []ledger.PaymentAttempt{
		{"pay_f", "failed", "card lost", at(80)}, {"pay_d", "failed", "expired card", at(60)},
		{"pay_b", "failed", "insufficient funds", at(50)}, {"pay_c", "failed", "do not honor", at(40)},
		{"pay_a", "failed", "card declined", at(20)},
	}
	if len(got) != len(want) {
		t.Fatalf("payment attempts = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].PaymentID != want[i].PaymentID || got[i].Status != want[i].Status || got[i].Reason != want[i].Reason || !got[i].At.Equal(want[i].At) {
			t.Fatalf("payment attempt %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Paid stays paid, whatever the time.
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_e", PaidAmount: 499}, nil); err != nil {
		t.Fatal(err)
	}
	m, err := b.store.MarkPurchase(b.ctx, "pur_a", state(failed, "late", "", "pay_e", 90), nil)
	if err != nil || m.Ignored != "purchase already paid" || m.Purchase.Status != ledger.PurchasePaid || m.Purchase.FailureReason != "" {
		t.Fatalf("a late failure of a paid purchase = %+v, %v", m, err)
	}
	// The payment that paid is not listed among those that did not, even
	// with a state kept from before it paid.
	b.purchase(t, "pur_g", "user_1", 100, 499)
	if _, err := b.store.MarkPurchase(b.ctx, "pur_g", state(processing, "", "", "pay_g", 10), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.MarkPurchase(b.ctx, "pur_g", state(failed, "card declined", "", "pay_h", 20), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_g", PaymentID: "pay_g", PaidAmount: 499}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := b.store.PaymentAttempts(b.ctx, "pur_g"); err != nil || len(got) != 1 || got[0].PaymentID != "pay_h" ||
		got[0].Status != "failed" || got[0].Reason != "card declined" || !got[0].At.Equal(at(20)) {
		t.Fatalf("attempts of a purchase paid by pay_g = %+v, %v; want only pay_h's decline", got, err)
	}
}

// TestMarkPurchaseOrdersUntimedAndRefusedStates: legacy webhooks and the
// v2 and v5 payment APIs give no time. Such a state replaces its payment's
// and counts as of when it was recorded (Whop's times are past when they
// arrive), except a pending after the payment ended; against a kept state
// of no time, Whop's time goes by the lifecycle. A payment refused
// although it charged the buyer is final, and counts neither as under way
// nor as failed. Each step arrives a second or so after Whop's time of it.
func TestMarkPurchaseOrdersUntimedAndRefusedStates(t *testing.T) {
	b := setup(t)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var clock time.Time
	store := ledger.NewStore(b.db.Pool, ledger.WithClock(func() time.Time { return clock }))
	failed, processing := ledger.PurchaseFailed, ledger.PurchaseProcessing
	const untimed = -1
	n := 0
	type want struct {
		ignored string
		status  ledger.PurchaseStatus
		reason  string
		pay     string // attempt_payment_id afterwards
		secs    int    // attempt_at afterwards, or untimed for NULL
	}
	check := func(name, pur, ignored string, m ledger.MarkResult, outcomeID string, w want) {
		t.Helper()
		var gotPay string
		var gotAt *time.Time
		if err := b.db.Pool.QueryRow(b.ctx, `SELECT COALESCE(attempt_payment_id, ''), attempt_at FROM purchases WHERE id = $1`,
			pur).Scan(&gotPay, &gotAt); err != nil {
			t.Fatal(err)
		}
		atOK := gotAt == nil && w.secs == untimed || gotAt != nil && w.secs != untimed && gotAt.Equal(at(w.secs))
		p := m.Purchase
		if ignored != w.ignored || p.Status != w.status || p.FailureReason != w.reason || gotPay != w.pay || !atOK {
			t.Fatalf("%s: ignored %q, purchase %s %q, attempt %s at %v;\nwant %q, %s %q, %s at %ds",
				name, ignored, p.Status, p.FailureReason, gotPay, gotAt, w.ignored, w.status, w.reason, w.pay, w.secs)
		}
		if outcomeID == "" {
			return
		}
		wantOutcome := "purchase " + string(w.status)
		if w.ignored != "" {
			wantOutcome = "ignored: " + w.ignored
		}
		var outcome string
		if err := b.db.Pool.QueryRow(b.ctx, `SELECT outcome FROM webhook_deliveries WHERE id = $1`, outcomeID).Scan(&outcome); err != nil ||
			outcome != wantOutcome {
			t.Fatalf("%s: delivery outcome %q (%v), want %q", name, outcome, err, wantOutcome)
		}
	}
	step := func(pur, name string, status ledger.PurchaseStatus, reason, pay string, secs, arrives int, w want) {
		t.Helper()
		n++
		id := fmt.Sprintf("msg_%d", n)
		st := ledger.PaymentState{Status: status, Reason: reason, PaymentID: pay}
		if secs != untimed {
			st.At = at(secs)
		}
		clock = at(arrives)
		m, err := store.MarkPurchase(b.ctx, pur, st, &ledger.Delivery{ID: id, Type: "payment.x", Scheme: "standard"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check(name, pur, m.Ignored, m, id, w)
	}
	refuse := func(pur, name, pay string, charged bool, arrives int, w want) {
		t.Helper()
		clock = at(arrives)
		if err := store.RecordRejection(b.ctx, ledger.Rejection{PaymentID: pay, PurchaseID: pur, Source: "webhook",
			Reason: "payment is disputed (dispute_warning)", BuyerCharged: charged}, nil); err != nil {
			t.Fatal(err)
		}
		p, err := store.Purchase(b.ctx, pur)
		if err != nil {
			t.Fatal(err)
		}
		check(name, pur, "", ledger.MarkResult{Purchase: p}, "", w)
	}
	attempts := func(pur string, want ...ledger.PaymentAttempt) {
		t.Helper()
		got, err := store.PaymentAttempts(b.ctx, pur)
		if err != nil || len(got) != len(want) {
			t.Fatalf("attempts of %s = %+v, %v; want %+v", pur, got, err, want)
		}
		for i := range want {
			if got[i].PaymentID != want[i].PaymentID || got[i].Status != want[i].Status || got[i].Reason != want[i].Reason ||
				!got[i].At.Equal(want[i].At) {
				t.Fatalf("attempt %d of %s = %+v, want %+v", i, pur, got[i], want[i])
			}
		}
	}
	declined := "card declined"

	b.purchase(t, "pur_a", "user_1", 100, 499)
	step("pur_a", "A declined", failed, declined, "pay_a", 20, 21, want{"", failed, declined, "pay_a", 20})
	step("pur_a", "A pending, of no time: no retry is known", processing, "", "pay_a", untimed, 22,
		want{"a pending of no time does not reopen the payment that ended: purchase stays failed", failed, declined, "pay_a", 20})
	step("pur_a", "A's decline again", failed, declined, "pay_a", 20, 23, want{"purchase already failed", failed, declined, "pay_a", 20})
	step("pur_a", "A's decline, of no time", failed, declined, "pay_a", untimed, 24, want{"purchase already failed", failed, declined, "pay_a", 20})
	step("pur_a", "A retried: pending after its decline", processing, "", "pay_a", 30, 31, want{"", processing, "", "pay_a", 30})

	b.purchase(t, "pur_b", "user_1", 100, 499)
	step("pur_b", "A pending", processing, "", "pay_a", 10, 11, want{"", processing, "", "pay_a", 10})
	step("pur_b", "A fails, of no time", failed, declined, "pay_a", untimed, 15, want{"", failed, declined, "pay_a", untimed})
	step("pur_b", "A's pending again, late", processing, "", "pay_a", 12, 16,
		want{"an earlier state of the payment arrived late: purchase stays failed", failed, declined, "pay_a", untimed})
	step("pur_b", "B pending", processing, "", "pay_b", 20, 21, want{"", processing, "", "pay_b", 20})
	step("pur_b", "B fails after A's failure was recorded", failed, "insufficient funds", "pay_b", 30, 31,
		want{"", failed, "insufficient funds", "pay_b", 30})
	step("pur_b", "C pending, of no time", processing, "", "pay_c", untimed, 40, want{"", processing, "", "pay_c", untimed})
	step("pur_b", "C fails, of no time: the newest failure", failed, "do not honor", "pay_c", untimed, 41,
		want{"", failed, "do not honor", "pay_c", untimed})
	step("pur_b", "B's failure again", failed, "insufficient funds", "pay_b", 30, 42,
		want{"an earlier failure arrived late: purchase stays failed", failed, "do not honor", "pay_c", untimed})
	attempts("pur_b", ledger.PaymentAttempt{PaymentID: "pay_c", Status: "failed", Reason: "do not honor"},
		ledger.PaymentAttempt{PaymentID: "pay_b", Status: "failed", Reason: "insufficient funds", At: at(30)},
		ledger.PaymentAttempt{PaymentID: "pay_a", Status: "failed", Reason: declined})

	// A pending of no time, then the failure's webhook with Whop's time:
	// whichever clock says what, a failure ends a pending.
	b.purchase(t, "pur_f", "user_1", 100, 499)
	step("pur_f", "A pending, of no time", processing, "", "pay_a", untimed, 5, want{"", processing, "", "pay_a", untimed})
	step("pur_f", "A's failure, timed before the pending was recorded", failed, declined, "pay_a", 3, 6,
		want{"", failed, declined, "pay_a", 3})
	step("pur_f", "A's failure again", failed, declined, "pay_a", 3, 7, want{"purchase already failed", failed, declined, "pay_a", 3})
	// A state kept with no time takes Whop's when the same status comes
	// with one.
	b.purchase(t, "pur_g", "user_1", 100, 499)
	step("pur_g", "A pending, of no time", processing, "", "pay_a", untimed, 5, want{"", processing, "", "pay_a", untimed})
	step("pur_g", "A's pending with Whop's time", processing, "", "pay_a", 4, 6, want{"", processing, "", "pay_a", 4})
	step("pur_g", "A's pending once more", processing, "", "pay_a", 4, 7, want{"purchase already processing", processing, "", "pay_a", 4})

	b.purchase(t, "pur_c", "user_1", 100, 499)
	step("pur_c", "A pending", processing, "", "pay_a", 10, 11, want{"", processing, "", "pay_a", 10})
	refuse("pur_c", "A paid, and refused: the purchase is left as it is", "pay_a", true, 12, want{"", processing, "", "pay_a", 10})
	step("pur_c", "A's failure after its refusal", failed, declined, "pay_a", 20, 21,
		want{"the payment was refused: purchase stays processing", processing, "", "pay_a", 10})
	step("pur_c", "B pending", processing, "", "pay_b", 30, 31, want{"", processing, "", "pay_b", 30})
	step("pur_c", "B fails: no payment is under way", failed, "do not honor", "pay_b", 40, 41, want{"", failed, "do not honor", "pay_b", 40})
	attempts("pur_c", ledger.PaymentAttempt{PaymentID: "pay_b", Status: "failed", Reason: "do not honor", At: at(40)},
		ledger.PaymentAttempt{PaymentID: "pay_a", Status: "refused", Reason: "payment is disputed (dispute_warning)"})

	// A refusal does not itself make an earlier decline the purchase's:
	// the member was charged, and is not to be asked to pay again. (A
	// decline delivered for the first time after it is recorded as any
	// decline is; the return page, the modal, confirm and the receipt tell
	// the refusal from the refusal's own record.)
	b.purchase(t, "pur_d", "user_1", 100, 499)
	step("pur_d", "A declined", failed, declined, "pay_a", 10, 11, want{"", failed, declined, "pay_a", 10})
	step("pur_d", "B pending", processing, "", "pay_b", 20, 21, want{"", processing, "", "pay_b", 20})
	refuse("pur_d", "B paid, and refused", "pay_b", true, 22, want{"", processing, "", "pay_b", 20})
	step("pur_d", "A's decline again", failed, declined, "pay_a", 10, 23,
		want{"another payment of the purchase is under way: purchase stays processing", processing, "", "pay_b", 20})
	// A refusal that did not charge the buyer keeps no state.
	refuse("pur_d", "A refused, not charged", "pay_a", false, 24, want{"", processing, "", "pay_b", 20})
	attempts("pur_d", ledger.PaymentAttempt{PaymentID: "pay_b", Status: "refused", Reason: "payment is disputed (dispute_warning)"},
		ledger.PaymentAttempt{PaymentID: "pay_a", Status: "failed", Reason: declined, At: at(10)})

	// Refused before its pending arrives: the late pending changes nothing.
	b.purchase(t, "pur_e", "user_1", 100, 499)
	refuse("pur_e", "A paid at once, and refused", "pay_a", true, 5, want{"", ledger.PurchasePending, "", "", untimed})
	step("pur_e", "A's pending, late", processing, "", "pay_a", 3, 6,
		want{"the payment was refused: purchase stays pending", ledger.PurchasePending, "", "", untimed})
}

func TestLedgerIsAppendOnly(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil)
	for _, sql := range []string{
		`UPDATE ledger_entries SET amount = 1000`,
		`DELETE FROM ledger_entries`,
		`TRUNCATE ledger_entries CASCADE`,
		`UPDATE wallets SET balance = 1000`, // a balance moving without an entry
	} {
		if _, err := b.db.Pool.Exec(b.ctx, sql); err == nil {
			t.Errorf("%s: succeeded, want it refused by the schema", sql)
		}
	}
	if bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1"); bal != 100 {
		t.Fatalf("balance = %d after refused tampering", bal)
	}
}

func TestDisputesAndRejections(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil)
	dp := ledger.Dispute{ID: "dspt_1", PaymentID: "pay_1", Amount: 499, Currency: "usd", Status: "needs_response", Reason: "fraudulent"}
	if _, err := b.store.RecordDispute(b.ctx, dp, &ledger.Delivery{ID: "msg_d1", Type: "dispute.created", Scheme: "standard"}); err != nil {
		t.Fatal(err)
	}
	dp.Status = "won"
	if _, err := b.store.RecordDispute(b.ctx, dp, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := b.store.DisputesForPayment(b.ctx, "pay_1")
	if len(got) != 1 || got[0].ID != "dspt_1" || got[0].PurchaseID != "pur_a" || got[0].Status != "won" ||
		got[0].Amount != 499 || got[0].Currency != "usd" || got[0].Reason != "fraudulent" {
		t.Fatalf("disputes = %+v", got)
	}
	r := ledger.Rejection{PaymentID: "pay_x", PurchaseID: "pur_a", Source: "webhook", Reason: "user mismatch"}
	b.store.RecordRejection(b.ctx, r, nil)
	b.store.RecordRejection(b.ctx, r, nil)
	// Every path that refuses may record: the top-up's charge job too.
	top := ledger.Rejection{PaymentID: "pay_x", PurchaseID: "pur_a", Source: "topup", Reason: "payment is disputed (dispute_warning)",
		BuyerCharged: true}
	if err := b.store.RecordRejection(b.ctx, top, nil); err != nil {
		t.Fatalf("a top-up's refusal: %v", err)
	}
	rs, _ := b.store.Rejections(b.ctx, "pay_x")
	if len(rs) != 2 || rs[0] != r || rs[1] != top {
		t.Fatalf("rejections = %+v, want %+v then %+v", rs, r, top)
	}
}

// A dispute can reach us before the payment it disputes is matched to a
// purchase (deliveries arrive in any order); a later update of the dispute
// links it, so the revenue report counts it against the right purchase.
func TestDisputeLinkedWhenItsPaymentArrivesLater(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	dp := ledger.Dispute{ID: "dspt_1", PaymentID: "pay_1", Amount: 499, Currency: "usd", Status: "needs_response", Reason: "fraudulent"}
	if _, err := b.store.RecordDispute(b.ctx, dp, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.store.DisputesForPayment(b.ctx, "pay_1"); len(got) != 1 || got[0].PurchaseID != "" {
		t.Fatalf("before the payment: disputes = %+v, want one with no purchase", got)
	}
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil); err != nil {
		t.Fatal(err)
	}
	dp.Status = "under_review"
	if _, err := b.store.RecordDispute(b.ctx, dp, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := b.store.DisputesForPayment(b.ctx, "pay_1")
	if len(got) != 1 || got[0].ID != "dspt_1" || got[0].PurchaseID != "pur_a" || got[0].Status != "under_review" ||
		got[0].Amount != 499 || got[0].Currency != "usd" || got[0].Reason != "fraudulent" {
		t.Fatalf("after the payment: disputes = %+v", got)
	}
}

// TestDisputeReportsKeepTheLaterOne: reports of one dispute arrive in any
// order, and may come again with a fresh time. A dispute never goes back
// along its life, so a report less far along is stale whatever its time;
// within one stage the one Whop made later stands, and when a time is
// unknown the last one read. A stale report changes nothing but fills in
// the purchase's link, and the delivery that brought it is recorded as
// ignored, saying why. dspt_1 is a chargeback on pur_a's payment, dspt_2
// an inquiry on a payment of no purchase that escalates.
func TestDisputeReportsKeepTheLaterOne(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	payments := map[string]string{"dspt_1": "pay_1", "dspt_2": "pay_2"}
	report := func(id, status, reason string, amount int64, when time.Time) ledger.Dispute {
		return ledger.Dispute{ID: id, PaymentID: payments[id], Amount: amount, Currency: "usd", Status: status,
			Reason: reason, ReportedAt: when}
	}
	type kept struct {
		status, reason string
		amount         int64
		at             time.Time
		purchase       string
	}
	steps := []struct {
		name    string
		in      ledger.Dispute
		settle  bool // settle pur_a with pay_1 before this report
		ignored string
		want    kept
	}{
		{"lost first: created's delivery is late", report("dspt_1", "lost", "fraudulent", 499, at(30)), false, "",
			kept{"lost", "fraudulent", 499, at(30), ""}},
		{"under review, reported before it was lost", report("dspt_1", "under_review", "fraudulent", 499, at(20)), false,
			"dispute dspt_1 is already lost, further along than under_review",
			kept{"lost", "fraudulent", 499, at(30), ""}},
		{"the late created, after the payment settled: linked, status kept", report("dspt_1", "needs_response", "unrecognized", 450, at(0)), true,
			"dispute dspt_1 is already lost, further along than needs_response",
			kept{"lost", "fraudulent", 499, at(30), "pur_a"}},
		{"the created sent again with a fresh time", report("dspt_1", "needs_response", "fraudulent", 499, at(90)), false,
			"dispute dspt_1 is already lost, further along than needs_response",
			kept{"lost", "fraudulent", 499, at(30), "pur_a"}},
		{"as far along, reported before", report("dspt_1", "won", "fraudulent", 499, at(25)), false,
			"dispute dspt_1 is lost as Whop reported at 2026-12-07T09:00:30Z, after this won (2026-12-07T09:00:25Z)",
			kept{"lost", "fraudulent", 499, at(30), "pur_a"}},
		{"as far along, at the same time: the last one read stands", report("dspt_1", "won", "fraudulent", 499, at(30)), false, "",
			kept{"won", "fraudulent", 499, at(30), "pur_a"}},
		{"as far along, reported later", report("dspt_1", "closed", "fraudulent", 490, at(40)), false, "",
			kept{"closed", "fraudulent", 490, at(40), "pur_a"}},
		{"as far along, of no time: it stands and the time kept stays", report("dspt_1", "lost", "fraudulent", 499, time.Time{}), false, "",
			kept{"lost", "fraudulent", 499, at(40), "pur_a"}},
		{"a status the app does not know", report("dspt_1", "other", "fraudulent", 499, at(50)), false,
			"dispute dspt_1 is already lost, further along than other",
			kept{"lost", "fraudulent", 499, at(40), "pur_a"}},

		{"a status the app does not know, first", report("dspt_2", "other", "general", 100, time.Time{}), false, "",
			kept{"other", "general", 100, time.Time{}, ""}},
		{"an inquiry of no time (as rows from before 000019)", report("dspt_2", "warning_needs_response", "general", 100, time.Time{}), false, "",
			kept{"warning_needs_response", "general", 100, time.Time{}, ""}},
		{"the same, with its time: the time unknown, the last one read", report("dspt_2", "warning_needs_response", "general", 100, at(0)), false, "",
			kept{"warning_needs_response", "general", 100, at(0), ""}},
		{"the inquiry closed", report("dspt_2", "warning_closed", "general", 100, at(10)), false, "",
			kept{"warning_closed", "general", 100, at(10), ""}},
		{"its review, late", report("dspt_2", "warning_under_review", "general", 100, at(5)), false,
			"dispute dspt_2 is already warning_closed, further along than warning_under_review",
			kept{"warning_closed", "general", 100, at(10), ""}},
		{"escalated to a chargeback", report("dspt_2", "needs_response", "fraudulent", 100, at(20)), false, "",
			kept{"needs_response", "fraudulent", 100, at(20), ""}},
		{"under review, of no time", report("dspt_2", "under_review", "fraudulent", 100, time.Time{}), false, "",
			kept{"under_review", "fraudulent", 100, at(20), ""}},
		{"needs response again, reported later", report("dspt_2", "needs_response", "fraudulent", 100, at(30)), false,
			"dispute dspt_2 is already under_review, further along than needs_response",
			kept{"under_review", "fraudulent", 100, at(20), ""}},
	}
	updated := map[string]time.Time{}
	for i, st := range steps {
		if st.settle {
			if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil); err != nil {
				t.Fatal(err)
			}
		}
		d := &ledger.Delivery{ID: fmt.Sprintf("msg_d%d", i), Type: "dispute.updated", Scheme: "standard", ObjectID: st.in.ID}
		ignored, err := b.store.RecordDispute(b.ctx, st.in, d)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if ignored != st.ignored {
			t.Errorf("%s: ignored %q, want %q", st.name, ignored, st.ignored)
		}
		wantOutcome := "dispute " + st.in.Status
		if st.ignored != "" {
			wantOutcome = "ignored: " + st.ignored
		}
		var outcome, linked string
		if err := b.db.Pool.QueryRow(b.ctx, `SELECT outcome, COALESCE(purchase_id, '') FROM webhook_deliveries WHERE id = $1`, d.ID).
			Scan(&outcome, &linked); err != nil {
			t.Fatal(err)
		}
		if outcome != wantOutcome || linked != st.want.purchase {
			t.Errorf("%s: delivery outcome %q for purchase %q, want %q for %q", st.name, outcome, linked, wantOutcome, st.want.purchase)
		}
		got, err := b.store.DisputesForPayment(b.ctx, st.in.PaymentID)
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: disputes = %+v, %v", st.name, got, err)
		}
		g := got[0]
		if g.ID != st.in.ID || g.PaymentID != st.in.PaymentID || g.Currency != "usd" || g.Status != st.want.status ||
			g.Reason != st.want.reason || g.Amount != st.want.amount || !g.ReportedAt.Equal(st.want.at) ||
			g.PurchaseID != st.want.purchase || g.CreatedAt.IsZero() || g.UpdatedAt.Before(g.CreatedAt) {
			t.Errorf("%s: dispute = %+v, want %+v", st.name, g, st.want)
		}
		// A report that stands moves the row's own time; an ignored one
		// leaves it alone.
		if prev, ok := updated[g.ID]; ok && (st.ignored == "") != g.UpdatedAt.After(prev) {
			t.Errorf("%s: updated_at went from %v to %v", st.name, prev, g.UpdatedAt)
		}
		updated[g.ID] = g.UpdatedAt
	}
}
