package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
)

// topUpRig is billing on a fresh database, against the real sandbox.
type topUpRig struct {
	t       *testing.T
	ctx     context.Context
	pool    *pgxpool.Pool
	store   *ledger.Store
	svc     *Service
	topups  *TopUps
	notices *Notices
	env     *whopsimtest.Env
	client  *whop.Client
	user    string
	exp     string
	keys    int
}

func newTopUpRig(t *testing.T) *topUpRig {
	t.Helper()
	return newTopUpRigWith(t, whopsim.Options{})
}

// newTopUpRigWith is newTopUpRig with the sandbox's options (a clock, say).
func newTopUpRigWith(t *testing.T, opts whopsim.Options) *topUpRig {
	t.Helper()
	db := pgtest.New(t)
	// New payments readable at once: the reconciler test lists them.
	opts.PaymentDelay = -1
	env := whopsimtest.Start(t, whopsimtest.Config{Options: opts})
	client := whop.New(env.Seed.App.APIKey, whop.WithBaseURL(env.APIBase), whop.WithAppID(env.Seed.App.ID))
	store := ledger.NewStore(db.Pool)
	svc := New(client, store, Config{CompanyID: env.Seed.Owner.ID, Currency: money.USD,
		Packages: []Package{{ID: "small", Credits: 100, Price: 500}, {ID: "big", Credits: 600, Price: 2500}}})
	return &topUpRig{t: t, ctx: context.Background(), pool: db.Pool, store: store, svc: svc,
		topups: NewTopUps(svc, client), notices: NewNotices(svc, client), env: env, client: client,
		user: env.Seed.Members[0].ID, exp: env.Seed.Creator.ExperienceID}
}

func (r *topUpRig) grant(credits int64) {
	r.t.Helper()
	r.keys++
	_, _, err := r.store.GrantCredits(r.ctx, ledger.NewCreditGrant{ID: fmt.Sprintf("grt_test%d", r.keys), ExperienceID: r.exp,
		UserID: r.user, CompanyID: r.env.Seed.Creator.ID, Credits: credits, Reason: "test",
		GrantedBy: r.env.Seed.Admin.ID, GrantedByCompany: r.env.Seed.Creator.ID, IdempotencyKey: fmt.Sprintf("k%d", r.keys)})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *topUpRig) spend(cost int64) {
	r.t.Helper()
	r.keys++
	if _, err := r.store.Spend(r.ctx, ledger.SpendRequest{ExperienceID: r.exp, UserID: r.user, ItemID: "item",
		Title: "Item", Cost: cost, IdempotencyKey: fmt.Sprintf("s%d", r.keys)}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *topUpRig) saveCard(card string) AutoTopUp {
	r.t.Helper()
	sc, err := r.topups.StartSetup(r.ctx, r.user, r.exp)
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := r.env.Sim.SaveCard(whopsim.Setup{CheckoutID: sc.CheckoutID, UserID: r.user, Card: card})
	if err != nil {
		r.t.Fatal(err)
	}
	a, err := r.topups.SaveMethod(r.ctx, r.user, r.exp, res.ReceiptID)
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

func (r *topUpRig) setRule(threshold int64, perDay int) {
	r.t.Helper()
	if _, err := r.topups.SetRule(r.ctx, r.user, r.exp, RuleInput{Threshold: threshold, PackageID: "small", DailyLimit: perDay}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *topUpRig) balance() int64 {
	r.t.Helper()
	b, err := r.store.Balance(r.ctx, r.exp, r.user)
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

func (r *topUpRig) count(sql string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.pool.QueryRow(r.ctx, sql, args...).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// crossOnce sets the member up to cross a rule once: 60 credits, a card
// saved, a rule buying "small" below 50 at most perDay times a day, and a
// spend of 20 that takes the balance to 40. It returns the one top-up the
// crossing scheduled.
func (r *topUpRig) crossOnce(card string, perDay int) string {
	r.t.Helper()
	r.grant(60)
	r.saveCard(card)
	r.setRule(50, perDay)
	r.spend(20)
	ids := r.topUpIDs()
	if len(ids) != 1 {
		r.t.Fatalf("top-ups after one crossing = %v", ids)
	}
	return ids[0]
}

// chargeWithLostAnswer makes top-up id's charge as its job makes it, paid
// at Whop, and returns the payment as if its answer had been lost: the
// top-up stays charging with no payment recorded.
func (r *topUpRig) chargeWithLostAnswer(id string) *whop.Payment {
	r.t.Helper()
	c, err := r.store.StartTopUpCharge(r.ctx, id)
	if err != nil || !c.Due {
		r.t.Fatalf("start = %+v, %v", c, err)
	}
	p, err := r.client.CreatePayment(r.ctx, whop.OffSessionPaymentParams{CompanyID: r.env.Seed.Owner.ID,
		MemberID: c.TopUp.MemberID, PaymentMethodID: c.TopUp.PaymentMethodID,
		Plan: whop.InlinePlan{Currency: money.USD, InitialPrice: c.Purchase.Price, PlanType: whop.PlanOneTime},
		Metadata: map[string]string{MetaPurchaseID: c.Purchase.ID, MetaExperienceID: r.exp, MetaUserID: r.user,
			MetaPackageID: "small", MetaTopUpID: id},
		IdempotencyKey: "creditkit:topup:" + id})
	if err != nil || !p.IsPaid() {
		r.t.Fatalf("charge = %+v, %v", p, err)
	}
	return p
}

// deliver hands billing a v1 event of typ with body's data as webhook
// delivery id, and returns its outcome.
func (r *topUpRig) deliver(id, typ, companyID string, body []byte) string {
	r.t.Helper()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		r.t.Fatal(err)
	}
	out, err := r.svc.core.handleEvent(r.ctx, &whop.Event{ID: id, Type: typ, Scheme: whop.SchemeStandard,
		APIVersion: "v1", CompanyID: companyID, Data: env.Data})
	if err != nil {
		r.t.Fatal(err)
	}
	return out.Outcome
}

// paidOnceBy fails the test unless top-up id and its purchase are paid by
// p with no failure left on either, the 100 credits landed on the 40 the
// crossing left, and Whop holds the one payment.
func (r *topUpRig) paidOnceBy(id string, p *whop.Payment) {
	r.t.Helper()
	tu, _ := r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpPaid || tu.PaymentID != p.ID || tu.FailureReason != "" || pur.Status != ledger.PurchasePaid ||
		pur.PaymentID != p.ID || pur.FailureReason != "" || r.balance() != 140 || r.sandboxPayments(id) != 1 {
		r.t.Fatalf("top-up %+v, purchase %+v, balance %d, payments %d", tu, pur, r.balance(), r.sandboxPayments(id))
	}
}

// topUpIDs are the wallet's top-ups, oldest first.
func (r *topUpRig) topUpIDs() []string {
	r.t.Helper()
	rows, err := r.pool.Query(r.ctx, `SELECT id FROM topups ORDER BY created_at, id`)
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// sandboxPayments counts the sandbox's payments for a top-up.
func (r *topUpRig) sandboxPayments(topUpID string) int {
	n := 0
	for _, p := range r.env.Sim.Payments() {
		if v, _ := p.Metadata[MetaTopUpID].(string); v == topUpID {
			n++
		}
	}
	return n
}

// TestTopUpRacingSecondCrossing: a spend crosses the threshold and
// schedules a top-up; before it is charged, credits land and a second
// spend crosses again, which schedules nothing (one top-up under way per
// wallet). Two workers then charge the one top-up at once: Whop is asked
// for one payment (the same key), the wallet is credited once, and every
// row says so.
func TestTopUpRacingSecondCrossing(t *testing.T) {
	r := newTopUpRig(t)
	r.grant(60)
	a := r.saveCard(whopsim.CardSucceeds)
	if !a.HasMethod || a.CardLast4 != "4242" || a.CardBrand != "visa" {
		t.Fatalf("saved method = %+v", a)
	}
	r.setRule(50, 3)
	r.spend(15) // 60 -> 45: crosses 50
	ids := r.topUpIDs()
	if len(ids) != 1 {
		t.Fatalf("top-ups after the crossing = %v, want 1", ids)
	}
	r.grant(100) // 145
	r.spend(100) // 145 -> 45: crosses again while the first is scheduled
	if got := r.topUpIDs(); len(got) != 1 {
		t.Fatalf("top-ups after the second crossing = %v, want still 1", got)
	}
	if n := r.count(`SELECT count(*) FROM river_job WHERE kind = 'topup_charge'`); n != 1 {
		t.Fatalf("charge jobs = %d, want 1", n)
	}
	var wg sync.WaitGroup
	outs := make([]ChargeOutcome, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = r.topups.Charge(r.ctx, ids[0])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			// A charge still in flight for its key answers 409: the job
			// retries it; retry now as River would.
			if outs[i], err = r.topups.Charge(r.ctx, ids[0]); err != nil {
				t.Fatalf("charge %d: %v", i, err)
			}
		}
	}
	if n := r.sandboxPayments(ids[0]); n != 1 {
		t.Fatalf("sandbox payments for the top-up = %d, want 1", n)
	}
	if b := r.balance(); b != 145 {
		t.Fatalf("balance = %d, want 45 + 100", b)
	}
	tu, err := r.store.TopUp(r.ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	pur, err := r.store.Purchase(r.ctx, tu.PurchaseID)
	if err != nil {
		t.Fatal(err)
	}
	if tu.Status != ledger.TopUpPaid || tu.PaymentID == "" || tu.FailureReason != "" || tu.Threshold != 50 ||
		tu.Attempts < 1 || tu.PaymentID != pur.PaymentID {
		t.Fatalf("top-up = %+v", tu)
	}
	if pur.Status != ledger.PurchasePaid || pur.Credits != 100 || pur.Price != 500 || pur.Currency != "usd" ||
		pur.UserID != r.user || pur.ExperienceID != r.exp || pur.CompanyID != r.env.Seed.Creator.ID ||
		pur.CheckoutID != tu.ID || pur.PaidAmount != 500 || pur.IdempotencyKey != "topup:"+tu.ID {
		t.Fatalf("purchase = %+v", pur)
	}
	if n := r.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'purchase' AND reference = $1`, pur.ID); n != 1 {
		t.Fatalf("purchase entries = %d, want 1", n)
	}
	// A later run of the job does nothing more.
	out, err := r.topups.Charge(r.ctx, ids[0])
	if err != nil || out.Status != "paid" || r.sandboxPayments(ids[0]) != 1 || r.balance() != 145 {
		t.Fatalf("third charge = %+v, %v", out, err)
	}
}

// TestDeclinedTopUpsTurnTheRuleOff: a card that saves and then declines.
// Each declined top-up credits nothing, is recorded with its reason and
// notifies the member; the second in a row turns the rule off, so the
// next crossing schedules nothing, until a card is saved again.
func TestDeclinedTopUpsTurnTheRuleOff(t *testing.T) {
	r := newTopUpRig(t)
	if err := r.notices.SetPrefs(r.ctx, r.user, r.exp, NoticePrefs{TopUpFailed: true}); err != nil {
		t.Fatal(err)
	}
	r.grant(60)
	r.saveCard(whopsim.CardSavesThenFails)
	r.setRule(50, 10)
	for round := 1; round <= 2; round++ {
		r.spend(20) // crosses 50
		ids := r.topUpIDs()
		if len(ids) != round {
			t.Fatalf("round %d: top-ups = %v", round, ids)
		}
		before := r.balance()
		out, err := r.topups.Charge(r.ctx, ids[round-1])
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != "declined" || out.Declined != "Your card was declined." {
			t.Fatalf("round %d: outcome = %+v", round, out)
		}
		if b := r.balance(); b != before {
			t.Fatalf("round %d: balance %d, was %d: a decline credited", round, b, before)
		}
		tu, _ := r.store.TopUp(r.ctx, ids[round-1])
		pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
		if tu.Status != ledger.TopUpDeclined || tu.FailureReason != "Your card was declined." || tu.PaymentID == "" ||
			pur.Status != ledger.PurchaseFailed || pur.FailureReason != "Your card was declined." {
			t.Fatalf("round %d: top-up %+v, purchase %+v", round, tu, pur)
		}
		if n := r.count(`SELECT count(*) FROM notifications WHERE kind = 'topup_failed' AND key = $1 AND user_id = $2
			AND status = 'pending'`, "topup_failed:"+tu.ID, r.user); n != 1 {
			t.Fatalf("round %d: top-up-failed notifications = %d", round, n)
		}
		a, err := r.topups.Settings(r.ctx, r.user, r.exp)
		if err != nil {
			t.Fatal(err)
		}
		if a.Rule.DeclinesInRow != round || a.Rule.Enabled != (round < 2) {
			t.Fatalf("round %d: rule = %+v", round, a.Rule)
		}
		r.grant(20) // back to 60, above the threshold, for the next crossing
	}
	a, _ := r.topups.Settings(r.ctx, r.user, r.exp)
	if a.Rule.DisabledReason == "" || a.Rule.Enabled {
		t.Fatalf("rule after two declines = %+v", a.Rule)
	}

	r.spend(20) // crosses again: the rule is off
	if n := len(r.topUpIDs()); n != 2 {
		t.Fatalf("top-ups with the rule off = %d, want 2", n)
	}
	a = r.saveCard(whopsim.CardSucceeds)
	if !a.Rule.Enabled || a.Rule.DeclinesInRow != 0 || a.Rule.DisabledReason != "" || a.CardLast4 != "4242" {
		t.Fatalf("rule after saving a card again = %+v", a.Rule)
	}
	if n := r.count(`SELECT count(*) FROM river_job WHERE kind = 'notify'`); n != 2 {
		t.Fatalf("notify jobs = %d, want 2", n)
	}

	// The member's list of top-ups: newest first, each with what it was to
	// buy (its purchase's, not the rule's, which now buys the big package)
	// and why it failed.
	if _, err := r.topups.SetRule(r.ctx, r.user, r.exp, RuleInput{Threshold: 50, PackageID: "big", DailyLimit: 10}); err != nil {
		t.Fatal(err)
	}
	a, err := r.topups.Settings(r.ctx, r.user, r.exp)
	if err != nil || a.Rule.PackageID != "big" {
		t.Fatalf("settings after the new rule = %+v, %v", a, err)
	}
	ids := r.topUpIDs() // oldest first
	if len(a.Recent) != len(ids) || len(ids) != 2 {
		t.Fatalf("recent top-ups = %+v, want the %d made", a.Recent, len(ids))
	}
	for i, got := range a.Recent {
		tu, err := r.store.TopUp(r.ctx, ids[len(ids)-1-i])
		if err != nil {
			t.Fatal(err)
		}
		want := TopUpRecord{ID: tu.ID, PurchaseID: tu.PurchaseID, Credits: 100, Price: 500, Currency: "usd",
			Status: "declined", FailureReason: "Your card was declined.", CreatedAt: got.CreatedAt}
		if got != want || !got.CreatedAt.Equal(tu.CreatedAt) {
			t.Errorf("recent top-up %d = %+v, want %+v created at %v", i, got, want, tu.CreatedAt)
		}
	}
}

// TestRemovingTheRuleCancelsAnUnchargedTopUp: the top-up a crossing
// scheduled is canceled with the rule, its purchase fails as canceled, and
// its job then charges nothing.
func TestRemovingTheRuleCancelsAnUnchargedTopUp(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	n, err := r.topups.RemoveRule(r.ctx, r.user, r.exp)
	if err != nil || n != 1 {
		t.Fatalf("remove = %d, %v", n, err)
	}
	out, err := r.topups.Charge(r.ctx, id)
	if err != nil || out.Status != "canceled" {
		t.Fatalf("charge after removal = %+v, %v", out, err)
	}
	tu, _ := r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpCanceled || tu.Attempts != 0 || tu.PaymentID != "" ||
		pur.Status != ledger.PurchaseFailed || pur.FailureReason != "canceled: auto top-up removed" {
		t.Fatalf("top-up %+v, purchase %+v", tu, pur)
	}
	if r.sandboxPayments(id) != 0 || r.balance() != 40 {
		t.Fatalf("payments %d, balance %d", r.sandboxPayments(id), r.balance())
	}
	a, _ := r.topups.Settings(r.ctx, r.user, r.exp)
	if a.Rule != nil || !a.HasMethod {
		t.Fatalf("settings after removal = %+v", a)
	}
	r.grant(100)
	r.spend(100) // crosses, with no rule
	if len(r.topUpIDs()) != 1 {
		t.Fatal("a crossing without a rule scheduled a top-up")
	}
}

// TestRemovingTheRuleStopsAChargeWaitingToRetry: the charge's first try
// fails (Whop answers 503: nothing charged) and the top-up waits, charging,
// for its job's retry. The member removes the rule: the top-up is canceled,
// and the retry, Whop healthy again, charges nothing.
func TestRemovingTheRuleStopsAChargeWaitingToRetry(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	failing := &refusingWhop{Client: r.client, status: 503}
	if _, err := NewTopUps(r.svc, failing).Charge(r.ctx, id); err == nil || failing.calls.Load() != 1 {
		t.Fatalf("a charge Whop answered 503 = %v after %d calls, want an error to retry", err, failing.calls.Load())
	}
	if tu, _ := r.store.TopUp(r.ctx, id); tu.Status != ledger.TopUpCharging || tu.PaymentID != "" {
		t.Fatalf("top-up after the failed try = %+v, want charging with no payment", tu)
	}
	if n, err := r.topups.RemoveRule(r.ctx, r.user, r.exp); err != nil || n != 1 {
		t.Fatalf("remove = %d, %v; want the charging top-up canceled", n, err)
	}
	out, err := r.topups.Charge(r.ctx, id) // River's retry
	if err != nil || out != (ChargeOutcome{Status: "canceled"}) {
		t.Fatalf("the retry after removal = %+v, %v", out, err)
	}
	tu, _ := r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpCanceled || tu.Attempts != 1 || tu.PaymentID != "" || tu.FailureReason != "" ||
		pur.Status != ledger.PurchaseFailed || pur.FailureReason != "canceled: auto top-up removed" || pur.PaymentID != "" {
		t.Fatalf("top-up %+v, purchase %+v", tu, pur)
	}
	if n := r.sandboxPayments(id); n != 0 || r.balance() != 40 {
		t.Fatalf("payments at Whop %d, balance %d; want none and 40", n, r.balance())
	}
}

// TestRemovingTheRuleLeavesAChargeThatIsRunning: while the charge job runs
// (River has it running), its charge may be at Whop at this moment, so
// removing the rule does not call the top-up canceled. That try fails; its
// retry, Whop healthy again, finds the rule gone and cancels the top-up
// instead of charging the card.
func TestRemovingTheRuleLeavesAChargeThatIsRunning(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	setJob := func(state string) {
		t.Helper()
		if n, err := r.pool.Exec(r.ctx, `UPDATE river_job SET state = $1 WHERE kind = 'topup_charge' AND args->>'topup_id' = $2`,
			state, id); err != nil || n.RowsAffected() != 1 {
			t.Fatalf("set the job %s: %v", state, err)
		}
	}
	setJob("running")
	c, err := r.store.StartTopUpCharge(r.ctx, id) // the running try, before it asks Whop
	if err != nil || !c.Due {
		t.Fatalf("start = %+v, %v", c, err)
	}
	if n, err := r.topups.RemoveRule(r.ctx, r.user, r.exp); err != nil || n != 0 {
		t.Fatalf("remove while the charge runs = %d, %v; want nothing canceled", n, err)
	}
	if tu, _ := r.store.TopUp(r.ctx, id); tu.Status != ledger.TopUpCharging {
		t.Fatalf("top-up = %+v, want still charging", tu)
	}
	setJob("retryable")                    // the running try failed at Whop (a 503, a timeout): nothing charged
	out, err := r.topups.Charge(r.ctx, id) // the retry
	if err != nil || out != (ChargeOutcome{Status: "canceled"}) || r.sandboxPayments(id) != 0 || r.balance() != 40 {
		t.Fatalf("the retry after the rule was removed = %+v, %v; payments %d, balance %d", out, err, r.sandboxPayments(id), r.balance())
	}
	tu, _ := r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpCanceled || tu.PaymentID != "" || tu.Attempts != 1 ||
		pur.Status != ledger.PurchaseFailed || pur.FailureReason != "canceled: auto top-up removed or changed" {
		t.Fatalf("top-up %+v, purchase %+v", tu, pur)
	}
}

// TestARetryBuysOnlyWhatTheRuleStillBuys: the rule is removed while the
// charge's try runs and set again before the retry. Set for another
// package, the retry cancels the top-up rather than buy what the old rule
// priced; set for the same package at the same price, it charges it.
func TestARetryBuysOnlyWhatTheRuleStillBuys(t *testing.T) {
	for _, tt := range []struct {
		pkg, want string
		payments  int
		balance   int64
	}{{"big", "canceled", 0, 40}, {"small", "paid", 1, 140}} {
		t.Run(tt.pkg, func(t *testing.T) {
			r := newTopUpRig(t)
			id := r.crossOnce(whopsim.CardSucceeds, 3)
			if _, err := r.pool.Exec(r.ctx, `UPDATE river_job SET state = 'running' WHERE kind = 'topup_charge'`); err != nil {
				t.Fatal(err)
			}
			if c, err := r.store.StartTopUpCharge(r.ctx, id); err != nil || !c.Due {
				t.Fatalf("start = %+v, %v", c, err)
			}
			if n, err := r.topups.RemoveRule(r.ctx, r.user, r.exp); err != nil || n != 0 {
				t.Fatalf("remove while running = %d, %v", n, err)
			}
			if _, err := r.topups.SetRule(r.ctx, r.user, r.exp, RuleInput{Threshold: 50, PackageID: tt.pkg, DailyLimit: 3}); err != nil {
				t.Fatal(err)
			}
			out, err := r.topups.Charge(r.ctx, id) // the retry of the try that failed
			if err != nil || out.Status != tt.want || r.sandboxPayments(id) != tt.payments || r.balance() != tt.balance {
				t.Fatalf("retry under a %s rule = %+v, %v; payments %d, balance %d", tt.pkg, out, err, r.sandboxPayments(id), r.balance())
			}
			tu, _ := r.store.TopUp(r.ctx, id)
			pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
			if string(tu.Status) != tt.want || (tt.want == "canceled") != (pur.FailureReason == "canceled: auto top-up removed or changed") {
				t.Fatalf("top-up %+v, purchase %+v", tu, pur)
			}
		})
	}
}

// TestRemovingTheRuleAfterALostAnswerStillCredits: the charge reached Whop
// and was paid, but its answer was lost, so the top-up is charging with no
// payment when the member removes the rule, which cancels it. Whop's
// payment, found by the reconciler, still credits the purchase, once: the
// top-up follows it to paid, and the job's retry charges nothing more.
func TestRemovingTheRuleAfterALostAnswerStillCredits(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	p := r.chargeWithLostAnswer(id)
	if n, err := r.topups.RemoveRule(r.ctx, r.user, r.exp); err != nil || n != 1 {
		t.Fatalf("remove = %d, %v", n, err)
	}
	run, err := r.svc.Deliveries.Reconcile(r.ctx)
	if err != nil || run.Credited != 1 {
		t.Fatalf("reconcile = %+v, %v", run, err)
	}
	r.paidOnceBy(id, p)
	out, err := r.topups.Charge(r.ctx, id)
	if err != nil || out != (ChargeOutcome{Status: "paid", PaymentID: p.ID}) || r.sandboxPayments(id) != 1 || r.balance() != 140 {
		t.Fatalf("the job's retry = %+v, %v; payments %d, balance %d", out, err, r.sandboxPayments(id), r.balance())
	}
	if n := r.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'purchase'`); n != 1 {
		t.Fatalf("purchase entries = %d, want 1", n)
	}
}

// TestRemovingTheRuleTakesLocksInCreditingsOrder: the lost charge's
// payment is being credited (its settlement holds the purchase and is
// about to credit the wallet) as the member removes the rule. Removing
// waits its turn behind the purchase without holding the wallet, so the
// settlement goes on and both finish; holding the wallet first, Postgres
// found a deadlock and aborted one of them.
func TestRemovingTheRuleTakesLocksInCreditingsOrder(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	r.chargeWithLostAnswer(id)
	tu, _ := r.store.TopUp(r.ctx, id)
	settlement, err := r.pool.Begin(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer settlement.Rollback(r.ctx)
	if _, err := settlement.Exec(r.ctx, `SELECT 1 FROM purchases WHERE id = $1 FOR UPDATE`, tu.PurchaseID); err != nil {
		t.Fatal(err)
	}
	type removal struct {
		n   int
		err error
	}
	removed := make(chan removal, 1)
	go func() {
		n, err := r.topups.RemoveRule(r.ctx, r.user, r.exp)
		removed <- removal{n, err}
	}()
	for deadline := time.Now().Add(10 * time.Second); r.count(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("removing the rule never waited for the purchase's lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := settlement.Exec(r.ctx, `UPDATE wallets SET updated_at = now() WHERE experience_id = $1 AND user_id = $2`,
		r.exp, r.user); err != nil {
		t.Fatalf("the settlement, holding the purchase, could not take the wallet: %v", err)
	}
	if err := settlement.Commit(r.ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-removed; got.err != nil || got.n != 1 {
		t.Fatalf("remove = %d, %v; want the top-up canceled", got.n, got.err)
	}
	tu, _ = r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpCanceled || pur.Status != ledger.PurchaseFailed || pur.FailureReason != "canceled: auto top-up removed" {
		t.Fatalf("top-up %+v, purchase %+v", tu, pur)
	}
	if a, _ := r.topups.Settings(r.ctx, r.user, r.exp); a.Rule != nil {
		t.Fatalf("rule after removal = %+v", a.Rule)
	}
}

// discardChargeJobs does what River does after a charge job's last try.
func (r *topUpRig) discardChargeJobs() {
	r.t.Helper()
	if _, err := r.pool.Exec(r.ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now()
		WHERE kind = 'topup_charge' AND state NOT IN ('completed', 'cancelled', 'discarded')`); err != nil {
		r.t.Fatal(err)
	}
}

// TestATopUpWhoseJobGaveUpEnds: Whop fails the charge until River discards
// the job. The top-up, left charging, would block every later crossing of
// the wallet. A pass of the reconciler that could not list Whop's payments
// leaves it (a charge Whop made would be unread); the next whole pass
// cancels it (its purchase failed, the reason on the member's page, the
// member told), and the next crossing schedules a new one, which the pass
// after leaves alone while its job lives.
func TestATopUpWhoseJobGaveUpEnds(t *testing.T) {
	r := newTopUpRig(t)
	if err := r.notices.SetPrefs(r.ctx, r.user, r.exp, NoticePrefs{TopUpFailed: true}); err != nil {
		t.Fatal(err)
	}
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	if _, err := NewTopUps(r.svc, &refusingWhop{Client: r.client, status: 503}).Charge(r.ctx, id); err == nil {
		t.Fatal("a charge Whop answered 503 did not fail")
	}
	if _, err := r.svc.Deliveries.Reconcile(r.ctx); err != nil {
		t.Fatal(err)
	}
	if tu, _ := r.store.TopUp(r.ctx, id); tu.Status != ledger.TopUpCharging {
		t.Fatalf("a pass while the job lives ended the top-up: %+v", tu)
	}
	r.discardChargeJobs()
	r.env.Sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus = 1, 503 })
	if _, err := r.svc.Deliveries.Reconcile(r.ctx); err == nil {
		t.Fatal("a pass that could not list Whop's payments did not fail")
	}
	r.env.Sim.SetFaults(whopsim.Faults{})
	if tu, _ := r.store.TopUp(r.ctx, id); tu.Status != ledger.TopUpCharging {
		t.Fatalf("a pass that read none of Whop's payments ended the top-up: %+v", tu)
	}
	if _, err := r.svc.Deliveries.Reconcile(r.ctx); err != nil {
		t.Fatal(err)
	}
	tu, _ := r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpCanceled || tu.FailureReason != ledger.TopUpJobGone || tu.Attempts != 1 || tu.PaymentID != "" ||
		pur.Status != ledger.PurchaseFailed || pur.FailureReason != "canceled: its charge job ended without a charge" {
		t.Fatalf("top-up %+v, purchase %+v", tu, pur)
	}
	var title, content string
	if err := r.pool.QueryRow(r.ctx, `SELECT title, content FROM notifications WHERE kind = 'topup_failed' AND key = $1
		AND user_id = $2 AND experience_id = $3 AND status = 'pending'`, "topup_failed:"+id, r.user, r.exp).Scan(&title, &content); err != nil ||
		title != "Your auto top-up did not go through" || !strings.HasPrefix(content, "Your auto top-up of 100 credits could not be completed: Whop kept failing") {
		t.Fatalf("the member's notification: %q %q (%v)", title, content, err)
	}
	if a, _ := r.topups.Settings(r.ctx, r.user, r.exp); a.Rule == nil || !a.Rule.Enabled || a.Rule.DeclinesInRow != 0 {
		t.Fatalf("the rule after a top-up whose job gave up = %+v, want on, no decline counted", a.Rule)
	}
	if n := r.sandboxPayments(id); n != 0 || r.balance() != 40 {
		t.Fatalf("payments at Whop %d, balance %d", n, r.balance())
	}
	if out, err := r.topups.Charge(r.ctx, id); err != nil || out != (ChargeOutcome{Status: "canceled"}) || r.sandboxPayments(id) != 0 {
		t.Fatalf("a late run of the job = %+v, %v", out, err)
	}
	r.grant(100)
	r.spend(100) // 140 → 40 crosses 50 again
	ids := r.topUpIDs()
	if len(ids) != 2 || ids[0] != id {
		t.Fatalf("top-ups after the next crossing = %v, want a second one", ids)
	}
	if _, err := r.svc.Deliveries.Reconcile(r.ctx); err != nil {
		t.Fatal(err)
	}
	if next, _ := r.store.TopUp(r.ctx, ids[1]); next.Status != ledger.TopUpScheduled || next.FailureReason != "" {
		t.Fatalf("the new top-up after a pass = %+v, want scheduled", next)
	}
	if out, err := r.topups.Charge(r.ctx, ids[1]); err != nil || out.Status != "paid" || out.Credited != 100 || r.balance() != 140 {
		t.Fatalf("the new top-up's charge = %+v, %v; balance %d", out, err, r.balance())
	}
}

// TestATopUpWhoseJobGaveUpAfterAPaidChargeIsCredited: the charge reached
// Whop and was paid, its answer lost, and the job gave up; after the
// reconciler's pass the top-up is paid, not canceled, and credited once.
// (The pass credits the window's payments before it ends top-ups, so none
// is canceled on the way; were the order the other way round, crediting
// would still turn the top-up back to paid, and this end state would not
// tell.)
func TestATopUpWhoseJobGaveUpAfterAPaidChargeIsCredited(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	p := r.chargeWithLostAnswer(id)
	r.discardChargeJobs()
	run, err := r.svc.Deliveries.Reconcile(r.ctx)
	if err != nil || run.Credited != 1 {
		t.Fatalf("reconcile = %+v, %v", run, err)
	}
	r.paidOnceBy(id, p)
}

// TestARetryPastWhopsKeyWindowIsNotMade: the charge reached Whop and was
// paid, its answer lost; the workers were down, and the job's retry comes
// a day later, when Whop no longer keeps the charge's Idempotency-Key (the
// sandbox's clock is moved on past its 24 hours). Retried, it would be a
// second payment of the member's card. It is not made: the top-up ends
// canceled with its reason, its purchase failed, the member told, the rule
// left on with no decline counted; the reconciler then finds Whop's one
// payment and credits it once, and the top-up follows it to paid. A retry
// inside the window (22 hours) is still made, as the same charge.
func TestARetryPastWhopsKeyWindowIsNotMade(t *testing.T) {
	t.Run("past the window", func(t *testing.T) {
		clock := whopsim.NewManualClock(time.Now())
		r := newTopUpRigWith(t, whopsim.Options{Clock: clock})
		if err := r.notices.SetPrefs(r.ctx, r.user, r.exp, NoticePrefs{TopUpFailed: true}); err != nil {
			t.Fatal(err)
		}
		id := r.crossOnce(whopsim.CardSucceeds, 3)
		p := r.chargeWithLostAnswer(id)
		r.age(id, ledger.ChargeKeyWindow+time.Minute)
		clock.Advance(24*time.Hour + time.Minute)

		out, err := r.topups.Charge(r.ctx, id)
		if err != nil || out != (ChargeOutcome{Status: "canceled"}) || r.sandboxPayments(id) != 1 || r.balance() != 40 {
			t.Fatalf("the late retry = %+v, %v; payments at Whop %d (want the one), balance %d",
				out, err, r.sandboxPayments(id), r.balance())
		}
		tu, _ := r.store.TopUp(r.ctx, id)
		pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
		if tu.Status != ledger.TopUpCanceled || tu.FailureReason != ledger.TopUpKeyExpired || tu.Attempts != 1 || tu.PaymentID != "" ||
			pur.Status != ledger.PurchaseFailed || pur.FailureReason != "canceled: its charge could not be retried safely after a day" ||
			pur.PaymentID != "" {
			t.Fatalf("top-up %+v, purchase %+v", tu, pur)
		}
		var title, content string
		if err := r.pool.QueryRow(r.ctx, `SELECT title, content FROM notifications WHERE kind = 'topup_failed' AND key = $1
			AND user_id = $2 AND experience_id = $3 AND status = 'pending'`, "topup_failed:"+id, r.user, r.exp).Scan(&title, &content); err != nil ||
			title != "Your auto top-up did not go through" ||
			content != "Your auto top-up of 100 credits could not be completed: Whop's answer to an earlier try was lost, and a day on "+
				"a new try could charge you twice, so it was stopped. If Whop did take a payment for it, its credits still land. "+
				"The next time your balance drops below your line, a new top-up starts." {
			t.Fatalf("the member's notification: %q %q (%v)", title, content, err)
		}
		if a, _ := r.topups.Settings(r.ctx, r.user, r.exp); a.Rule == nil || !a.Rule.Enabled || a.Rule.DeclinesInRow != 0 {
			t.Fatalf("the rule after a stopped top-up = %+v, want on, no decline counted", a.Rule)
		}
		if out, err := r.topups.Charge(r.ctx, id); err != nil || out != (ChargeOutcome{Status: "canceled"}) || r.sandboxPayments(id) != 1 {
			t.Fatalf("another run of the job = %+v, %v; payments %d", out, err, r.sandboxPayments(id))
		}
		run, err := r.svc.Deliveries.Reconcile(r.ctx)
		if err != nil || run.Credited != 1 {
			t.Fatalf("reconcile = %+v, %v", run, err)
		}
		r.paidOnceBy(id, p)
	})
	t.Run("inside the window", func(t *testing.T) {
		clock := whopsim.NewManualClock(time.Now())
		r := newTopUpRigWith(t, whopsim.Options{Clock: clock})
		id := r.crossOnce(whopsim.CardSucceeds, 3)
		p := r.chargeWithLostAnswer(id)
		r.age(id, 22*time.Hour)
		clock.Advance(22 * time.Hour)
		out, err := r.topups.Charge(r.ctx, id)
		if err != nil || out != (ChargeOutcome{Status: "paid", PaymentID: p.ID, Credited: 100}) {
			t.Fatalf("the retry inside the window = %+v, %v", out, err)
		}
		r.paidOnceBy(id, p)
	})
}

// age moves top-up id's scheduling back by d, as if it had waited that long.
func (r *topUpRig) age(id string, d time.Duration) {
	r.t.Helper()
	if _, err := r.pool.Exec(r.ctx, `UPDATE topups SET created_at = created_at - make_interval(secs => $2) WHERE id = $1`,
		id, d.Seconds()); err != nil {
		r.t.Fatal(err)
	}
}

// TestAtMostKTopUpsADay: with K = 2, the third crossing of the day
// schedules nothing.
func TestAtMostKTopUpsADay(t *testing.T) {
	r := newTopUpRig(t)
	r.grant(60)
	r.saveCard(whopsim.CardSucceeds)
	r.setRule(50, 2)
	for i := 1; i <= 3; i++ {
		r.spend(r.balance() - 40) // down to 40: crosses 50
		ids := r.topUpIDs()
		want := min(i, 2)
		if len(ids) != want {
			t.Fatalf("crossing %d: top-ups = %d, want %d", i, len(ids), want)
		}
		if i <= 2 {
			if out, err := r.topups.Charge(r.ctx, ids[i-1]); err != nil || out.Status != "paid" || out.Credited != 100 {
				t.Fatalf("crossing %d: charge = %+v, %v", i, out, err)
			}
		}
	}
	if b := r.balance(); b != 40 {
		t.Fatalf("balance = %d", b)
	}
	if n := r.count(`SELECT count(*) FROM topups WHERE status = 'paid'`); n != 2 {
		t.Fatalf("paid top-ups = %d", n)
	}
}

// fixedRetry retries a failed job after a short fixed wait.
type fixedRetry struct{}

func (fixedRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(100 * time.Millisecond)
}

// TestNotificationRetriedAfterWhopFails: a member opted in to "credited"
// is given credits; Whop's API fails every call for a while, so the
// notification job fails and is retried by River; once Whop answers, the
// notification is sent, exactly once, and the sandbox shows it to that
// member, deep-linking into the app.
func TestNotificationRetriedAfterWhopFails(t *testing.T) {
	r := newTopUpRig(t)
	jobs, err := NewJobs(r.pool, JobsConfig{Workers: 2, FetchPollInterval: 50 * time.Millisecond, TestOnly: true,
		RetryPolicy: fixedRetry{}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	jobs.Register(r.svc)
	jobs.RegisterMemberJobs(r.topups, r.notices)
	if err := r.notices.SetPrefs(r.ctx, r.user, r.exp, NoticePrefs{Credited: true}); err != nil {
		t.Fatal(err)
	}
	r.env.Sim.SetFaults(whopsim.Faults{APIFailureRate: 1})
	if err := jobs.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jobs.Stop(context.Background()) })
	r.grant(25)
	waitFor(t, 20*time.Second, "two failed attempts", func() bool {
		return r.count(`SELECT count(*) FROM notifications WHERE attempts >= 2 AND status = 'pending' AND last_error <> ''`) == 1
	})
	if n := len(r.env.Sim.Notifications(r.user)); n != 0 {
		t.Fatalf("sandbox notifications while failing = %d", n)
	}
	r.env.Sim.SetFaults(whopsim.Faults{})
	waitFor(t, 20*time.Second, "sent", func() bool {
		return r.count(`SELECT count(*) FROM notifications WHERE status = 'sent' AND sent_at IS NOT NULL`) == 1
	})
	got := r.env.Sim.Notifications(r.user)
	if len(got) != 1 {
		t.Fatalf("sandbox notifications = %+v, want 1", got)
	}
	n := got[0]
	if n.Title != "You were given credits" || n.Content != "25 credits landed in your wallet; your balance is 25." ||
		n.ExperienceID != r.exp || len(n.UserIDs) != 1 || n.UserIDs[0] != r.user || n.RestPath != "/activity" ||
		n.DeepLink != "/experiences/"+r.exp+"/activity" {
		t.Fatalf("sandbox notification = %+v", n)
	}
	// Sending it again (a duplicate job) sends nothing.
	var id int64
	r.pool.QueryRow(r.ctx, `SELECT id FROM notifications`).Scan(&id)
	if sent, err := r.notices.Send(r.ctx, id); err != nil || sent {
		t.Fatalf("second send = %t, %v", sent, err)
	}
	if len(r.env.Sim.Notifications(r.user)) != 1 || len(r.env.Sim.Notifications(r.env.Seed.Members[1].ID)) != 0 {
		t.Fatal("a notification went out twice, or to someone else")
	}
	recent, err := r.notices.Recent(r.ctx, r.user, r.exp)
	if err != nil || len(recent) != 1 || recent[0].Status != "sent" || recent[0].Kind != "credited" {
		t.Fatalf("recent = %+v, %v", recent, err)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSetupWebhookSavesTheCard: a card saved on Whop's hosted page reaches
// the app by setup_intent.succeeded alone: the delivery records the card
// for the member and experience its metadata names, and turns back on a
// rule two declines turned off; the same setup again changes nothing; a
// setup Creditkit did not make is recorded and ignored.
func TestSetupWebhookSavesTheCard(t *testing.T) {
	r := newTopUpRig(t)
	deliver := func(id string, ev whopsim.Event) string {
		t.Helper()
		return r.deliver(id, ev.Type, ev.CompanyID, ev.Body)
	}
	lastEvent := func() whopsim.Event {
		evs := r.env.Sim.Events()
		return evs[len(evs)-1]
	}
	r.grant(60)
	r.saveCard(whopsim.CardSavesThenFails)
	r.setRule(50, 10)
	for range 2 { // two declines turn the rule off
		r.spend(20)
		ids := r.topUpIDs()
		if _, err := r.topups.Charge(r.ctx, ids[len(ids)-1]); err != nil {
			t.Fatal(err)
		}
		r.grant(20)
	}
	if a, _ := r.topups.Settings(r.ctx, r.user, r.exp); a.Rule.Enabled {
		t.Fatal("the rule is still on after two declines")
	}
	sc, err := r.topups.StartSetup(r.ctx, r.user, r.exp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.env.Sim.SaveCard(whopsim.Setup{CheckoutID: sc.CheckoutID, UserID: r.user, Card: whopsim.CardSucceeds})
	if err != nil {
		t.Fatal(err)
	}
	ev := lastEvent()
	if ev.Type != whop.EventSetupIntentSucceeded {
		t.Fatalf("last event = %s", ev.Type)
	}
	if out := deliver("msg_setup1", ev); out != "payment method saved" {
		t.Fatalf("delivery = %q", out)
	}
	a, _ := r.topups.Settings(r.ctx, r.user, r.exp)
	if !a.HasMethod || a.CardLast4 != "4242" || !a.Rule.Enabled || a.Rule.DeclinesInRow != 0 {
		t.Fatalf("after the webhook: %+v %+v", a, a.Rule)
	}
	var si string
	r.pool.QueryRow(r.ctx, `SELECT setup_intent_id FROM topup_methods`).Scan(&si)
	if si != res.ReceiptID {
		t.Fatalf("setup intent recorded %s, want %s", si, res.ReceiptID)
	}
	// The modal's answer for the same setup: nothing changes.
	if _, err := r.topups.SaveMethod(r.ctx, r.user, r.exp, res.ReceiptID); err != nil {
		t.Fatal(err)
	}
	if n := r.count(`SELECT count(*) FROM webhook_deliveries WHERE id = 'msg_setup1' AND outcome = 'payment method saved' AND object_id = $1`, res.ReceiptID); n != 1 {
		t.Fatalf("delivery rows = %d", n)
	}
	// A setup another app made (no metadata of ours) is ignored.
	co, err := r.client.CreateSetupCheckout(r.ctx, whop.SetupCheckoutParams{CompanyID: r.env.Seed.Owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.env.Sim.SaveCard(whopsim.Setup{CheckoutID: co.ID, UserID: r.user, Card: whopsim.CardSavesThenFails}); err != nil {
		t.Fatal(err)
	}
	if out := deliver("msg_setup2", lastEvent()); out != "ignored: not a Creditkit setup" {
		t.Fatalf("foreign setup = %q", out)
	}
	if a, _ := r.topups.Settings(r.ctx, r.user, r.exp); a.CardLast4 != "4242" {
		t.Fatalf("a foreign setup replaced the card: %+v", a)
	}
}

// TestNotificationWhopRefusesIsSkipped: Whop refusing a notification for
// good (its user is not in the experience) is recorded as skipped with
// the reason, not retried.
func TestNotificationWhopRefusesIsSkipped(t *testing.T) {
	r := newTopUpRig(t)
	r.user = r.env.Seed.NoAccess.ID
	if err := r.store.SetNotificationPrefs(r.ctx, r.exp, r.user, ledger.NotificationPrefs{Credited: true}); err != nil {
		t.Fatal(err)
	}
	r.grant(5)
	var id int64
	if err := r.pool.QueryRow(r.ctx, `SELECT id FROM notifications`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	sent, err := r.notices.Send(r.ctx, id)
	if err != nil || sent {
		t.Fatalf("send = %t, %v; want refused quietly", sent, err)
	}
	n, _ := r.store.Notification(r.ctx, id)
	if n.Status != "skipped" || n.Attempts != 1 || !strings.Contains(n.LastError, "is not in") || !n.SentAt.IsZero() {
		t.Fatalf("notification = %+v", n)
	}
	if len(r.env.Sim.Notifications("")) != 0 {
		t.Fatal("the sandbox recorded a refused notification")
	}
}

// TestReconcilerSettlesALostTopUpCharge: Whop charged a top-up but the
// app never heard (the job's answer and the webhook both lost): the
// reconciler finds the off-session payment and fulfils the top-up's
// purchase through the one fulfilment function, once; the job, run again,
// gets the same payment back (its key) and credits nothing more.
func TestReconcilerSettlesALostTopUpCharge(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	p := r.chargeWithLostAnswer(id) // the charge as the job makes it, whose answer is then lost
	run, err := r.svc.Deliveries.Reconcile(r.ctx)
	if err != nil || run.Credited != 1 {
		t.Fatalf("reconcile = %+v, %v", run, err)
	}
	tu, _ := r.store.TopUp(r.ctx, id)
	if tu.Status != ledger.TopUpPaid || tu.PaymentID != p.ID || r.balance() != 140 {
		t.Fatalf("top-up %+v, balance %d", tu, r.balance())
	}
	out, err := r.topups.Charge(r.ctx, id)
	if err != nil || out.Status != "paid" || r.balance() != 140 || r.sandboxPayments(id) != 1 {
		t.Fatalf("job after the reconciler = %+v, %v; balance %d", out, err, r.balance())
	}
}

// TestATopUpWhosePaymentIsRefusedSaysSo: a paid payment the charge job
// reads for its top-up that does not fit the top-up's purchase (here one
// made on another checkout, naming the purchase) is refused and recorded
// with the top-up as its source, instead of its job failing on the record
// and retrying. Whop charged the member, so the top-up ends refused, not
// declined: nothing credited, the refusal's reason kept, the rule turned
// off at once (another charge could go the same way) and the member told
// to look at their Whop receipts. The same holds when the charge's answer
// had the payment pending first (its state kept as under way).
func TestATopUpWhosePaymentIsRefusedSaysSo(t *testing.T) {
	for _, pendingFirst := range []bool{false, true} {
		t.Run(map[bool]string{false: "paid at once", true: "pending first"}[pendingFirst], func(t *testing.T) {
			refusedTopUp(t, pendingFirst)
		})
	}
}

func refusedTopUp(t *testing.T, pendingFirst bool) {
	r := newTopUpRig(t)
	if err := r.notices.SetPrefs(r.ctx, r.user, r.exp, NoticePrefs{TopUpFailed: true}); err != nil {
		t.Fatal(err)
	}
	id := r.crossOnce(whopsim.CardSucceeds, 10)
	tu, err := r.store.TopUp(r.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	co, err := r.client.CreateCheckoutConfiguration(r.ctx, whop.CheckoutConfigurationParams{
		CompanyID: r.env.Seed.Owner.ID,
		Plan:      &whop.InlinePlan{Currency: money.USD, InitialPrice: 500, PlanType: whop.PlanOneTime},
		Metadata:  map[string]string{MetaPurchaseID: tu.PurchaseID},
	})
	if err != nil {
		t.Fatal(err)
	}
	paid, err := r.env.Sim.Pay(whopsim.Purchase{CheckoutID: co.ID, PlanID: co.PlanID, UserID: r.user})
	if err != nil {
		t.Fatal(err)
	}
	// As if the charge had been answered with that payment: the job reads it.
	if err := r.store.RecordTopUpPayment(r.ctx, tu.ID, paid.ReceiptID); err != nil {
		t.Fatal(err)
	}
	if pendingFirst {
		m, err := r.store.MarkPurchase(r.ctx, tu.PurchaseID, ledger.PaymentState{Status: ledger.PurchaseProcessing,
			PaymentID: paid.ReceiptID, At: time.Now().Add(-time.Minute)}, nil)
		if err != nil || m.Ignored != "" || m.Purchase.Status != ledger.PurchaseProcessing {
			t.Fatalf("the payment's pending = %+v, %v", m, err)
		}
	}
	before := r.balance()
	out, err := r.topups.Charge(r.ctx, tu.ID)
	const reason = "payment is for another checkout configuration"
	const why = "payment refused: " + reason
	if err != nil || out != (ChargeOutcome{Status: string(ledger.TopUpRefused), PaymentID: paid.ReceiptID, Declined: why}) {
		t.Fatalf("charge = %+v, %v", out, err)
	}
	tu, _ = r.store.TopUp(r.ctx, tu.ID)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpRefused || tu.FailureReason != reason || tu.PaymentID != paid.ReceiptID ||
		pur.Status != ledger.PurchaseFailed || pur.FailureReason != why {
		t.Fatalf("top-up %+v, purchase %+v", tu, pur)
	}
	a, err := r.topups.Settings(r.ctx, r.user, r.exp)
	if err != nil || a.Rule.Enabled || a.Rule.DeclinesInRow != 1 ||
		a.Rule.DisabledReason != "a top-up was charged but not credited; check your Whop receipts, then save a payment method again" {
		t.Fatalf("rule after a refused top-up = %+v, %v", a.Rule, err)
	}
	if len(a.Recent) != 1 || a.Recent[0].Status != "refused" || a.Recent[0].FailureReason != reason {
		t.Fatalf("the member's top-ups = %+v", a.Recent)
	}
	notes, err := r.notices.Recent(r.ctx, r.user, r.exp)
	if err != nil || len(notes) != 1 || notes[0].Kind != "topup_failed" || notes[0].Status != "pending" ||
		notes[0].Title != "Your auto top-up was not credited" ||
		notes[0].Content != "Whop charged you for 100 credits, but the payment could not be credited ("+reason+
			"), so no credits were added. Check your Whop receipts: the seller sees the payment in their books and can "+
			"refund it. Auto top-up is off until you save a payment method again." {
		t.Fatalf("notifications = %+v, %v", notes, err)
	}
	rs, err := r.store.Rejections(r.ctx, paid.ReceiptID)
	want := ledger.Rejection{PaymentID: paid.ReceiptID, PurchaseID: pur.ID, Source: string(FromTopUp),
		Reason: "payment is for another checkout configuration", BuyerCharged: true}
	if err != nil || len(rs) != 1 || rs[0] != want {
		t.Fatalf("rejections = %+v, %v; want %+v", rs, err, want)
	}
	if b := r.balance(); b != before {
		t.Fatalf("balance %d, was %d: a refused payment credited", b, before)
	}
}
