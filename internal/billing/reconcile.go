package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/riverqueue/river"
)

// Whop retries a webhook three times over about 70 seconds. The reconciler
// is what makes a longer outage (a deploy, a crash, a database restart)
// lose nothing: it lists the company's paid payments that changed since the
// last successful run, minus an overlap for clock skew and late writes, and
// passes each through FulfilPayment, which credits what was missed and
// applies refunds nothing else saw — and does nothing for the rest.
const (
	// ReconcileOverlap re-reads this much of the previous window.
	ReconcileOverlap = 10 * time.Minute
	// ReconcileFirstLookback is how far back the very first run looks.
	ReconcileFirstLookback = 72 * time.Hour
	// ReconcileHeartbeat is how often a run says it is still going; well
	// inside ledger.ReconcilerRunStale, after which a silent run is taken
	// for dead.
	ReconcileHeartbeat = 5 * time.Second
)

// ErrReconcilerRunning means a run is still going (on any replica), so this
// one did not start; the next period's run covers the window.
var ErrReconcilerRunning = ledger.ErrReconcilerRunning

// ReconcileSummary is what one run saw and repaired.
type ReconcileSummary = ledger.ReconcilerRun

// reconcile runs one pass. A failed pass is recorded and does not move the
// checkpoint, so the next pass covers its window again. Passes never
// overlap: while one runs, anywhere, another returns ErrReconcilerRunning.
func (s *core) reconcile(ctx context.Context) (ReconcileSummary, error) {
	now := s.now()
	from, err := s.store.ReconcileFrom(ctx)
	if err != nil {
		return ReconcileSummary{}, err
	}
	if from.IsZero() {
		from = now.Add(-ReconcileFirstLookback)
	} else {
		from = from.Add(-ReconcileOverlap)
	}
	run := ReconcileSummary{WindowStart: from, WindowEnd: now}
	if run.ID, err = s.store.StartReconcilerRun(ctx, from, now); err != nil {
		return run, err
	}
	stopBeat := s.beat(ctx, run.ID)
	runErr := s.reconcileWindow(ctx, &run)
	stopBeat()
	if runErr != nil {
		run.Error = runErr.Error()
	}
	// Record the outcome even when ctx is ending (shutdown): a short,
	// separate deadline keeps the run from looking like it died.
	finishCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.store.FinishReconcilerRun(finishCtx, run); err != nil {
		return run, err
	}
	if run.Credited > 0 || run.Refunded > 0 {
		s.log.WarnContext(ctx, "reconciler repaired payments the webhooks missed",
			"credited", run.Credited, "refunded", run.Refunded, "seen", run.PaymentsSeen)
	}
	return run, runErr
}

func (s *core) reconcileWindow(ctx context.Context, run *ReconcileSummary) error {
	payments := s.whop.ListPayments(ctx, whop.ListPaymentsParams{
		CompanyID:    s.cfg.CompanyID,
		Statuses:     []whop.PaymentStatus{whop.PaymentPaid},
		UpdatedAfter: run.WindowStart,
		Order:        "updated_at",
		Direction:    "asc",
		PageSize:     100,
	})
	// One payment that cannot be processed must not stall the others: it is
	// counted and the run goes on; the run then records an error, so the
	// checkpoint stays and the next run tries that payment again.
	var failed int
	var first error
	fail := func(err error) {
		failed++
		if first == nil {
			first = err
		}
	}
	for p, err := range payments {
		if err != nil {
			// A page Whop did not serve ends the listing (the iterator stops
			// after yielding it); a payment that did not decode is skipped,
			// and held against the run, so the checkpoint stays and the
			// error shows on the run.
			fail(fmt.Errorf("list payments: %w", err))
			continue
		}
		run.PaymentsSeen++
		if s.isPremiumPayment(p) {
			// A renewal's payment is its only delivery: lost, the period
			// would never be granted. Granting is once per period.
			out, err := s.premiumPayment(ctx, p, nil, run.ID)
			var bad *MalformedError
			switch {
			case errors.As(err, &bad), errors.Is(err, whop.ErrNotFound):
				// A membership Whop does not know (yet) or sends unusable:
				// holding the checkpoint would re-read the window for ever;
				// the next passes read the payment again while it is in
				// their window.
				s.log.WarnContext(ctx, "reconciler skipped a premium payment whose membership it could not use",
					"payment_id", p.ID, "membership_id", p.MembershipID, "error", err.Error())
			case err != nil && ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				fail(fmt.Errorf("%s: %w", p.ID, err))
			default:
				if out.Granted > 0 {
					s.log.WarnContext(ctx, "reconciler granted a premium period the webhooks missed", "payment_id", p.ID,
						"membership_id", p.MembershipID, "credits", out.Granted)
				}
				if out.TakenBack > 0 {
					// Counted on the run where it was taken (ledger).
					run.Refunded++
					s.log.WarnContext(ctx, "reconciler took back premium credits of a reversed payment the webhooks missed",
						"payment_id", p.ID, "membership_id", p.MembershipID, "credits", out.TakenBack)
				}
			}
			continue
		}
		// A payment naming no purchase is still passed on: fulfilment finds
		// the purchase it paid, if any (one Whop answers without metadata),
		// and ignores the rest (other products).
		out, err := s.fulfil(ctx, p, FromReconcile, nil, run.ID)
		var bad *MalformedError
		if errors.As(err, &bad) {
			// No later run will read it differently: holding the
			// checkpoint for it would only re-read the window for ever.
			s.log.WarnContext(ctx, "reconciler skipped an unusable payment", "reason", bad.Reason)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fail(fmt.Errorf("%s: %w", p.ID, err))
			continue
		}
		if out.Credited > 0 {
			run.Credited++
		}
		if out.TakenBack > 0 {
			run.Refunded++
		}
		if out.Rejected != "" {
			run.Rejected++
		}
	}
	declined, err := s.reconcileDeclines(ctx, run)
	run.Failures = declined
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		fail(err)
	}
	if declined > 0 {
		s.log.WarnContext(ctx, "reconciler recorded failed payments the webhooks missed", "purchases", declined)
	}
	if failed > 0 {
		return fmt.Errorf("billing: reconcile: %d problems (the checkpoint stays for the next run); the first: %w", failed, first)
	}
	// Only after a pass that read and settled every paid payment of its
	// window: a top-up whose charge Whop did make has been credited by now,
	// and is no longer under way, so none is told "not charged" while Whop
	// holds its payment unread. A payment that does not decode holds the
	// sweep up, as it holds the checkpoint: it could be that very charge
	// (the run's error names it, for an operator to look at).
	ended, err := s.store.EndTopUpsWithoutAJob(ctx)
	if err != nil {
		return cmp.Or(ctx.Err(), fmt.Errorf("billing: reconcile: %w", err))
	}
	if len(ended) > 0 {
		ids := make([]string, len(ended))
		for i, t := range ended {
			ids[i] = t.ID
		}
		s.log.ErrorContext(ctx, "reconciler canceled top-ups whose charge job gave up (see the topup_charge jobs' errors)",
			"topups", ids)
	}
	return nil
}

// reconcileDeclines records the window's failed payments on their
// purchases, as payment.failed would have: a purchase that payment.pending
// (or confirm) made processing would otherwise read "processing" for good
// when the failure's webhook was lost. Failed means what failedPayment
// says: substatus failed, or status void or uncollectible, two listings.
// MarkPurchase orders the states, so reading a failure again, or one
// older than the purchase's, changes nothing. A failed payment that does
// not decode is skipped with a warning, not held against the run: failures
// from every product of the company pass here, and no credit hangs on one;
// a listing Whop did not serve is a problem, and the checkpoint stays. It
// returns how many purchases it changed, and the first problem (the rest
// is still read).
func (s *core) reconcileDeclines(ctx context.Context, run *ReconcileSummary) (changed int, first error) {
	for _, filter := range []whop.ListPaymentsParams{
		{Substatuses: []whop.PaymentSubstatus{whop.SubstatusFailed}},
		{Statuses: []whop.PaymentStatus{whop.PaymentVoid, whop.PaymentUncollectible}},
	} {
		filter.CompanyID, filter.UpdatedAfter = s.cfg.CompanyID, run.WindowStart
		filter.Order, filter.Direction, filter.PageSize = "updated_at", "asc", 100
		for p, err := range s.whop.ListPayments(ctx, filter) {
			var item *whop.ItemError
			switch {
			case errors.As(err, &item):
				s.log.WarnContext(ctx, "reconciler skipped a failed payment that did not decode", "error", err.Error())
				continue
			case err != nil:
				first = cmp.Or(first, fmt.Errorf("list failed payments: %w", err))
				continue
			}
			run.PaymentsSeen++
			if p.Metadata[MetaPurchaseID] == "" || p.IsPaid() || !failedPayment(p) {
				continue // not ours, or not failed whatever the filter said
			}
			if err := checkPayment(p); err != nil {
				s.log.WarnContext(ctx, "reconciler skipped an unusable payment", "reason", err.Error())
				continue
			}
			out, err := s.markUnpaid(ctx, p, true, nil)
			if err != nil {
				if ctx.Err() != nil {
					return changed, ctx.Err()
				}
				first = cmp.Or(first, fmt.Errorf("%s: %w", p.ID, err))
				continue
			}
			if out.Kind == Applied {
				changed++
			}
		}
	}
	return changed, first
}

// beat keeps run id's heartbeat fresh until the returned stop is called, so
// a run that takes longer than ledger.ReconcilerRunStale is not mistaken
// for a dead one. Each beat is one short statement of its own.
func (s *core) beat(ctx context.Context, id int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(ReconcileHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.store.BeatReconcilerRun(ctx, id); err != nil && ctx.Err() == nil {
					s.log.WarnContext(ctx, "reconciler heartbeat", "run", id, "error", err.Error())
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// reconcileWorker runs the periodic reconcile job.
type reconcileWorker struct {
	river.WorkerDefaults[ReconcileJob]
	s *core
}

// Work runs one pass. Its failure is recorded on the run and leaves the
// checkpoint where it was, so the next period's run covers the window
// again; the job itself is never retried (that would only make two passes
// over it), and a period that finds a run still going does nothing.
func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileJob]) error {
	_, err := w.s.reconcile(ctx)
	switch {
	case errors.Is(err, ErrReconcilerRunning):
		w.s.log.InfoContext(ctx, "reconcile skipped: the previous run is still going")
	case err != nil:
		w.s.log.ErrorContext(ctx, "reconcile failed", "error", err.Error())
	}
	return nil
}

// Timeout bounds one pass.
func (w *reconcileWorker) Timeout(*river.Job[ReconcileJob]) time.Duration { return ReconcileJobTimeout }
