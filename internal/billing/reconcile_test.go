package billing

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
)

// listingWhop plays Whop's payments list for the reconciler: items for its
// list of paid payments, failed for its list of failed ones (by
// substatus), ended for its list of void and uncollectible ones, where a
// nil payment stands for one that did not decode; failedPageErr, when set,
// ends the failed list as a page Whop did not serve would.
type listingWhop struct {
	Whop
	items, failed, ended []*whop.Payment
	failedPageErr        error
}

func (f *listingWhop) ListPayments(_ context.Context, params whop.ListPaymentsParams) iter.Seq2[*whop.Payment, error] {
	items, end := f.items, error(nil)
	switch {
	case len(params.Substatuses) > 0:
		items, end = f.failed, f.failedPageErr
	case !slices.Contains(params.Statuses, whop.PaymentPaid):
		items = f.ended
	}
	return func(yield func(*whop.Payment, error) bool) {
		for _, p := range items {
			var err error
			if p == nil {
				err = &whop.ItemError{Err: errors.New("whop: payment did not decode")}
			}
			if !yield(p, err) {
				return
			}
		}
		if end != nil {
			yield(nil, end)
		}
	}
}

// purchaseAndPayment stores a pending purchase of 100 credits for 4.99 USD
// by user_1 and returns a payment of it in status and sub, as Whop would
// list it (ids are a prefix and base62, as Whop's).
func purchaseAndPayment(t *testing.T, store *ledger.Store, purchase string, status whop.PaymentStatus, sub whop.PaymentSubstatus) *whop.Payment {
	t.Helper()
	suffix := strings.TrimPrefix(purchase, PurchasePrefix)
	if _, _, err := store.CreatePurchase(context.Background(), ledger.NewPurchase{ID: purchase, UserID: "user_1", ExperienceID: "exp_1",
		CompanyID: "biz_owner", PackageID: "starter", Credits: 100, Price: 499, Currency: "usd",
		CheckoutID: "ch_" + suffix, PlanID: "plan_1"}); err != nil {
		t.Fatal(err)
	}
	return &whop.Payment{ID: "pay_" + suffix, Status: status, Substatus: sub, Currency: money.USD, Total: 499,
		UserID: "user_1", CompanyID: "biz_owner", CheckoutConfigurationID: "ch_" + suffix,
		Metadata: map[string]string{MetaPurchaseID: purchase}}
}

// TestReconcilerGoesPastAPoisonPayment: one payment that cannot be read
// does not keep the others from being credited; the run records the error
// and leaves the checkpoint for the next run, which starts no later.
func TestReconcilerGoesPastAPoisonPayment(t *testing.T) {
	db := pgtest.New(t)
	store := ledger.NewStore(db.Pool)
	ctx := context.Background()
	paid := func(purchase string) *whop.Payment {
		return purchaseAndPayment(t, store, purchase, whop.PaymentPaid, whop.SubstatusSucceeded)
	}
	fake := &listingWhop{items: []*whop.Payment{paid("pur_a"), nil, paid("pur_b")}}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	s := New(fake, store, Config{CompanyID: "biz_owner", Currency: money.USD}, WithClock(func() time.Time { return now }))

	run, err := s.Deliveries.Reconcile(ctx)
	if err == nil || !strings.Contains(run.Error, "1 problems") || !strings.Contains(run.Error, "did not decode") {
		t.Fatalf("run = %+v, err %v; want one problem recorded", run, err)
	}
	if run.PaymentsSeen != 2 || run.Credited != 2 {
		t.Fatalf("run = %+v; want both readable payments credited past the bad one", run)
	}
	if b, _ := store.Balance(ctx, "exp_1", "user_1"); b != 200 {
		t.Fatalf("balance = %d, want 200", b)
	}
	// The checkpoint stays: the next run starts where this one did (the
	// first run's start), not at this run's end.
	from, err := store.ReconcileFrom(ctx)
	if err != nil || !from.Equal(run.WindowStart) {
		t.Fatalf("next run starts at %v (%v), want %v", from, err, run.WindowStart)
	}
	now = now.Add(time.Minute)
	fake.items = fake.items[:1]
	next, err := s.Deliveries.Reconcile(ctx)
	if err != nil || !next.WindowStart.Equal(run.WindowStart.Add(-ReconcileOverlap)) || next.Credited != 0 {
		t.Fatalf("next run = %+v, %v; want it to cover the failed window again and credit nothing twice", next, err)
	}
}

// TestReconcilerSkipsUnusablePayments: a payment whose ids are not ids is
// refused, not retried: no run can read it differently, so it neither
// fails the run (holding the checkpoint for ever) nor reaches the tables.
func TestReconcilerSkipsUnusablePayments(t *testing.T) {
	db := pgtest.New(t)
	store := ledger.NewStore(db.Pool)
	ctx := context.Background()
	junk := purchaseAndPayment(t, store, "pur_a", whop.PaymentPaid, "")
	junk.ID = "1e400" // not a payment id
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	s := New(&listingWhop{items: []*whop.Payment{junk}}, store, Config{CompanyID: "biz_owner", Currency: money.USD},
		WithClock(func() time.Time { return now }))
	run, err := s.Deliveries.Reconcile(ctx)
	if err != nil || run.Error != "" || run.PaymentsSeen != 1 || run.Credited != 0 || run.Rejected != 0 {
		t.Fatalf("run = %+v, %v; want the junk seen and skipped", run, err)
	}
	if p, _ := store.Purchase(ctx, "pur_a"); p.Status != ledger.PurchasePending || p.PaymentID != "" {
		t.Fatalf("purchase = %+v, want untouched", p)
	}
	if from, _ := store.ReconcileFrom(ctx); !from.Equal(now) {
		t.Fatalf("checkpoint = %v, want the run's end %v", from, now)
	}
}

// TestReconcilerRecordsFailedPaymentsPastAPoisonOne: the window's failed
// payments (substatus failed, or void or uncollectible) are recorded on
// their processing purchases. One that did not decode is skipped, not held
// against the run; a payment listed as failed that is not (paid, here)
// changes nothing; a list Whop did not serve is a problem on the run, and
// the checkpoint stays for the next.
func TestReconcilerRecordsFailedPaymentsPastAPoisonOne(t *testing.T) {
	db := pgtest.New(t)
	store := ledger.NewStore(db.Pool)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	payment := func(purchase string, status whop.PaymentStatus, sub whop.PaymentSubstatus, processing bool) *whop.Payment {
		p := purchaseAndPayment(t, store, purchase, status, sub)
		p.UpdatedAt = at
		if processing {
			if _, err := store.MarkPurchase(ctx, purchase, ledger.PaymentState{Status: ledger.PurchaseProcessing,
				PaymentID: p.ID, At: at.Add(-time.Hour)}, nil); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	failed := payment("pur_c", whop.PaymentOpen, whop.SubstatusFailed, true)
	failed.FailureMessage = "The bank declined the transfer."
	voided := payment("pur_e", whop.PaymentVoid, "", true)
	mislisted := payment("pur_d", whop.PaymentPaid, whop.SubstatusSucceeded, false)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	fake := &listingWhop{failed: []*whop.Payment{nil, failed, mislisted}, ended: []*whop.Payment{voided}}
	s := New(fake, store, Config{CompanyID: "biz_owner", Currency: money.USD}, WithClock(func() time.Time { return now }))

	run, err := s.Deliveries.Reconcile(ctx)
	if err != nil || run.Error != "" || run.PaymentsSeen != 3 || run.Credited != 0 || run.Refunded != 0 || run.Rejected != 0 ||
		run.Failures != 2 {
		t.Fatalf("run = %+v, err %v; want the three readable payments seen, two failures recorded, no problem", run, err)
	}
	for _, want := range []struct {
		purchase string
		status   ledger.PurchaseStatus
		reason   string
	}{
		{"pur_c", ledger.PurchaseFailed, "The bank declined the transfer."},
		{"pur_e", ledger.PurchaseFailed, "payment failed"},
		{"pur_d", ledger.PurchasePending, ""},
	} {
		p, _ := store.Purchase(ctx, want.purchase)
		if p.Status != want.status || p.FailureReason != want.reason || p.PaymentID != "" {
			t.Errorf("%s = %s %q %q, want %s %q", want.purchase, p.Status, p.FailureReason, p.PaymentID, want.status, want.reason)
		}
	}
	if from, _ := store.ReconcileFrom(ctx); !from.Equal(now) {
		t.Fatalf("checkpoint = %v, want the run's end %v", from, now)
	}

	// A list Whop did not serve holds the checkpoint.
	now = now.Add(time.Minute)
	fake.failedPageErr = errors.New("whop: 502 Bad Gateway")
	next, err := s.Deliveries.Reconcile(ctx)
	if err == nil || !strings.Contains(next.Error, "1 problems") || !strings.Contains(next.Error, "list failed payments: whop: 502 Bad Gateway") ||
		next.Failures != 0 {
		t.Fatalf("run with a list not served = %+v, %v; want one problem", next, err)
	}
	if from, _ := store.ReconcileFrom(ctx); !from.Equal(now.Add(-time.Minute)) {
		t.Fatalf("checkpoint = %v, want it kept at the last good run's end", from)
	}
}

// membershipWhop is listingWhop with Whop's memberships: an id it does not
// hold is a 404, as Whop answers.
type membershipWhop struct {
	listingWhop
	memberships map[string]*whop.Membership
}

func (f *membershipWhop) GetMembership(_ context.Context, id string) (*whop.Membership, error) {
	if m, ok := f.memberships[id]; ok {
		return m, nil
	}
	return nil, &whop.APIError{StatusCode: 404, Method: "GET", Path: "/api/v1/memberships/" + id, Message: "not found"}
}

// TestReconcilerSkipsAPremiumPaymentItCannotUse: of three paid payments of
// the premium plan in the window, one names a membership Whop answers 404
// for and one a membership Whop sends unusable. Neither holds the
// checkpoint (no later pass would read them better); the third's period is
// granted.
func TestReconcilerSkipsAPremiumPaymentItCannotUse(t *testing.T) {
	db := pgtest.New(t)
	store := ledger.NewStore(db.Pool)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	premium := func(id, membership string) *whop.Payment {
		return &whop.Payment{ID: id, Status: whop.PaymentPaid, UserID: "user_1", CompanyID: "biz_owner", Currency: money.USD,
			Total: 999, PlanID: "plan_premium", ProductID: "prod_premium", MembershipID: membership}
	}
	start := now.Add(-time.Hour)
	f := &membershipWhop{
		listingWhop: listingWhop{items: []*whop.Payment{premium("pay_gone", "mem_gone"), premium("pay_junk", "mem_junk"),
			premium("pay_good", "mem_good")}},
		memberships: map[string]*whop.Membership{
			"mem_junk": {ID: "mem_junk", Status: "Not A Status!", UserID: "user_1", PlanID: "plan_premium", ProductID: "prod_premium"},
			"mem_good": {ID: "mem_good", Status: whop.MembershipActive, Valid: true, UserID: "user_1", PlanID: "plan_premium",
				ProductID: "prod_premium", Metadata: map[string]string{MetaExperienceID: "exp_1", MetaUserID: "user_1"},
				CreatedAt: start, UpdatedAt: start, RenewalPeriodStart: start, RenewalPeriodEnd: start.AddDate(0, 0, 30)},
		},
	}
	s := New(f, store, Config{CompanyID: "biz_owner", Currency: money.USD,
		Premium: PremiumConfig{ProductID: "prod_premium", PlanID: "plan_premium", MonthlyCredits: 50}},
		WithClock(func() time.Time { return now }))
	run, err := s.Deliveries.Reconcile(ctx)
	if err != nil || run.Error != "" || run.PaymentsSeen != 3 || run.Credited != 0 || run.Rejected != 0 {
		t.Fatalf("run = %+v, %v; want three seen, the two unusable skipped", run, err)
	}
	if from, _ := store.ReconcileFrom(ctx); !from.Equal(now) {
		t.Fatalf("checkpoint = %v, want the run's end %v", from, now)
	}
	if bal, _ := store.Balance(ctx, "exp_1", "user_1"); bal != 50 {
		t.Fatalf("balance = %d, want the good membership's 50", bal)
	}
	grants, err := store.PremiumGrants(ctx, "mem_good")
	entries, _ := store.Entries(ctx, "exp_1", "user_1")
	if err != nil || len(grants) != 1 || len(entries) != 1 {
		t.Fatalf("grants = %+v, entries %+v, %v", grants, entries, err)
	}
	if g := grants[0]; g.MembershipID != "mem_good" || g.Credits != 50 || !g.PeriodStart.Equal(start) ||
		!g.PeriodEnd.Equal(start.AddDate(0, 0, 30)) || g.UserID != "user_1" || g.ExperienceID != "exp_1" ||
		g.LedgerEntryID != entries[0].ID || g.DeliveryID != "" || g.ID == 0 || g.CreatedAt.IsZero() {
		t.Fatalf("grant = %+v, entry %+v", g, entries[0])
	}
	for _, id := range []string{"mem_gone", "mem_junk"} {
		if _, err := store.Membership(ctx, id); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("membership %s recorded: %v", id, err)
		}
	}
}
