package ledger_test

import (
	"errors"
	"strings"
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

// TestOneReconcilerRunAtATime: while a run is going, another cannot start
// (concurrent starts included: exactly one wins); a run whose heartbeat
// stopped is closed as abandoned by the next start, and its late finish
// does not reopen it or move the checkpoint.
func TestOneReconcilerRunAtATime(t *testing.T) {
	b := setup(t)
	now := time.Now()
	ids := make(chan int64, 8)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			id, err := b.store.StartReconcilerRun(b.ctx, now.Add(-time.Hour), now)
			ids <- id
			errs <- err
		}()
	}
	var started []int64
	for range 8 {
		id, err := <-ids, <-errs
		switch {
		case err == nil:
			started = append(started, id)
		case !errors.Is(err, ledger.ErrReconcilerRunning):
			t.Fatal(err)
		}
	}
	if len(started) != 1 {
		t.Fatalf("%d runs started at once, want 1", len(started))
	}
	first := started[0]
	if err := b.store.BeatReconcilerRun(b.ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.StartReconcilerRun(b.ctx, now, now); !errors.Is(err, ledger.ErrReconcilerRunning) {
		t.Fatalf("a start beside a live run: %v", err)
	}

	// Its process dies: no heartbeat for longer than ReconcilerRunStale.
	if _, err := b.db.Pool.Exec(b.ctx, `UPDATE reconciler_runs SET heartbeat_at = now() - $1::interval WHERE id = $2`,
		(ledger.ReconcilerRunStale + time.Second).String(), first); err != nil {
		t.Fatal(err)
	}
	second, err := b.store.StartReconcilerRun(b.ctx, now, now.Add(time.Second))
	if err != nil || second == first {
		t.Fatalf("a start after the run went silent: %d, %v", second, err)
	}
	if err := b.store.FinishReconcilerRun(b.ctx, ledger.ReconcilerRun{ID: first, PaymentsSeen: 5}); err != nil {
		t.Fatal(err)
	}
	runs, err := b.store.ReconcilerRuns(b.ctx, 10)
	if err != nil || len(runs) != 2 || runs[0].ID != second || !runs[0].FinishedAt.IsZero() ||
		runs[1].ID != first || runs[1].FinishedAt.IsZero() || runs[1].PaymentsSeen != 0 ||
		!strings.HasPrefix(runs[1].Error, "abandoned: no heartbeat since ") {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	if from, err := b.store.ReconcileFrom(b.ctx); err != nil || !from.Equal(now.Add(-time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("checkpoint after an abandoned run = %v, %v; want the first window's start", from, err)
	}
}
