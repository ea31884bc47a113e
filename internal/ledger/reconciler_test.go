package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// TestReconcilerRunCountsEachRepairAsItCommits: a repair is counted on its
// run in the transaction that makes it, so a run that never finishes (a
// crash, a database outage) still shows, and the metrics still sum, exactly
// what it repaired; finishing the run does not overwrite those counts.
func TestReconcilerRunCountsEachRepairAsItCommits(t *testing.T) {
	b := setup(t)
	now := time.Now().Truncate(time.Microsecond) // as Postgres keeps it
	run, err := b.store.StartReconcilerRun(b.ctx, now.Add(-time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	b.purchase(t, "pur_r", "user_1", 100, 499)
	settle := func(st ledger.Settlement) error {
		st.ReconcilerRun = run
		_, err := b.store.Settle(b.ctx, st, nil)
		return err
	}
	if err := settle(ledger.Settlement{PurchaseID: "pur_r", PaymentID: "pay_r", PaidAmount: 499}); err != nil {
		t.Fatal(err)
	}
	if err := settle(ledger.Settlement{PurchaseID: "pur_r", PaymentID: "pay_r", PaidAmount: 499}); err != nil {
		t.Fatal(err) // seen again: nothing to repair, nothing counted
	}
	if err := settle(ledger.Settlement{PurchaseID: "pur_r", PaymentID: "pay_other", PaidAmount: 499}); !errors.Is(err, ledger.ErrPaidByOtherPayment) {
		t.Fatalf("another payment for a paid purchase: %v", err)
	}
	if err := settle(ledger.Settlement{PurchaseID: "pur_r", PaymentID: "pay_r", PaidAmount: 499, RefundedAmount: 250, RefundedCredits: 51}); err != nil {
		t.Fatal(err)
	}

	// The run has not finished (its process died): its repairs still show.
	tot, err := b.store.ReconcilerTotals(b.ctx)
	if err != nil || tot.Runs != 0 || tot.Credited != 1 || tot.Refunded != 1 || !tot.LastSuccess.IsZero() {
		t.Fatalf("totals of an unfinished run = %+v, %v; want no finished run, 1 credited, 1 refunded", tot, err)
	}
	if err := b.store.FinishReconcilerRun(b.ctx, ledger.ReconcilerRun{ID: run, PaymentsSeen: 4, Rejected: 1}); err != nil {
		t.Fatal(err)
	}
	runs, err := b.store.ReconcilerRuns(b.ctx, 5)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	if r := runs[0]; r.ID != run || r.Credited != 1 || r.Refunded != 1 || r.PaymentsSeen != 4 || r.Rejected != 1 ||
		r.FinishedAt.IsZero() || r.StartedAt.IsZero() || r.FinishedAt.Before(r.StartedAt) || r.Error != "" ||
		!r.WindowStart.Equal(now.Add(-time.Hour)) || !r.WindowEnd.Equal(now) {
		t.Fatalf("finished run = %+v; want its counts kept and what it saw recorded", r)
	}
	tot, _ = b.store.ReconcilerTotals(b.ctx)
	if tot.Runs != 1 || tot.Failed != 0 || tot.Credited != 1 || tot.Refunded != 1 || tot.PaymentsSeen != 4 || tot.Rejected != 1 ||
		!tot.LastSuccess.Equal(runs[0].FinishedAt) {
		t.Fatalf("totals = %+v", tot)
	}
}
