package billing

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/queue"
)

// Job kinds billing runs in the background.
const (
	// JobReconcile lists Whop's recent payments and repairs what the
	// webhooks missed. One runs per interval across all replicas.
	JobReconcile = "reconcile"
	// JobRevenueShare pays a creator's share of a sale; the ledger enqueues
	// it with the fulfilment.
	JobRevenueShare = ledger.JobRevenueShare
	// JobPayout finishes a payout Whop did not confirm at once; the ledger
	// enqueues it with the payout.
	JobPayout = ledger.JobPayout
)

// RegisterJobs gives the queue billing's background work.
func (s *Service) RegisterJobs(q *queue.Queue, reconcileEvery time.Duration) {
	q.Handle(JobReconcile, func(ctx context.Context, _ queue.Job) error {
		// A failed run is recorded with its error and leaves the checkpoint
		// where it was, so the next period's run covers the window again;
		// retrying this job too would only run two passes over it.
		if _, err := s.Reconcile(ctx); err != nil {
			s.log.ErrorContext(ctx, "reconcile failed", "error", err.Error())
		}
		return nil
	})
	q.Every(JobReconcile, reconcileEvery)
	q.Handle(JobRevenueShare, s.payRevenueShare)
	q.Handle(JobPayout, s.retryPayout)
}
