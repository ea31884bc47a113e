package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Some facts need background work: a payout Whop has not confirmed, a
// revenue share to transfer. The ledger asks for that work in the same
// transaction that records the fact (through a JobInserter, River's InsertTx
// in production), so the job exists exactly when the fact does. The ledger
// names the jobs and their arguments; what runs them, and how they retry,
// is billing's business.

// JobArgs are a background job's arguments. The shape is River's JobArgs:
// a JSON-encodable struct that names its kind.
type JobArgs interface {
	Kind() string
}

// Job kinds the ledger asks for with the facts that need them.
const (
	// JobPayout finishes a payout Whop has not confirmed yet.
	JobPayout = "payout"
	// JobRevenueShare pays a revenue share to the creator.
	JobRevenueShare = "revenue_share"
	// JobGrantExpiry takes a grant's unspent credits out at its expiry.
	JobGrantExpiry = "grant_expiry"
)

// PayoutJob is the payout job's arguments.
type PayoutJob struct {
	PayoutID string `json:"payout_id"`
}

// Kind names the job.
func (PayoutJob) Kind() string { return JobPayout }

// RevenueShareJob is the revenue-share job's arguments: the payment whose
// share it pays.
type RevenueShareJob struct {
	PaymentID string `json:"payment_id"`
}

// Kind names the job.
func (RevenueShareJob) Kind() string { return JobRevenueShare }

// GrantExpiryJob is the grant-expiry job's arguments, scheduled at the
// grant's expiry in the grant's own transaction.
type GrantExpiryJob struct {
	GrantID string `json:"grant_id"`
}

// Kind names the job.
func (GrantExpiryJob) Kind() string { return JobGrantExpiry }

// JobInserter inserts a job inside the caller's transaction, to run at
// runAt (now when zero). Inserting a job that already exists for the same
// arguments must do nothing, so a fact recorded twice asks for one job.
//
// JobRow is the river_job row InsertJobTx would write for args to run now,
// for a statement that writes it itself with its fact (creditkit_settle
// does, for the revenue share), ON CONFLICT on its unique key as River's
// insert is.
type JobInserter interface {
	InsertJobTx(ctx context.Context, tx pgx.Tx, args JobArgs, runAt time.Time) error
	JobRow(args JobArgs) (JobRow, error)
}

// JobRow is what a river_job row holds when it is inserted, available now:
// the rest (state, times, tags, metadata, attempts) is River's defaults.
type JobRow struct {
	Kind         string
	Args         []byte // JSON
	MaxAttempts  int16
	Priority     int16
	Queue        string
	UniqueKey    []byte // nil: not unique
	UniqueStates int32  // River's bitmask of the states the key is unique in
}

// ErrNoJobInserter means the Store was built without WithJobs and was asked
// to record a fact that needs a background job.
var ErrNoJobInserter = errors.New("ledger: no job inserter configured (ledger.WithJobs)")

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithJobs gives the Store what inserts background jobs.
func WithJobs(j JobInserter) StoreOption { return func(s *Store) { s.jobs = j } }

// WithClock sets the clock that stamps when a payment state was recorded
// (time.Now by default), for tests that order states Whop gave no time.
func WithClock(now func() time.Time) StoreOption { return func(s *Store) { s.now = now } }

// enqueue asks for args' job in tx.
func (s *Store) enqueue(ctx context.Context, tx pgx.Tx, args JobArgs, runAt time.Time) error {
	if s.jobs == nil {
		return ErrNoJobInserter
	}
	if err := s.jobs.InsertJobTx(ctx, tx, args, runAt); err != nil {
		return fmt.Errorf("enqueue %s job: %w", args.Kind(), err)
	}
	return nil
}

// JobCounts are River's jobs of one kind in each state, for metrics.
type JobCounts struct {
	Kind string
	// States counts jobs by River state: available, scheduled, running,
	// retryable, completed, cancelled, discarded, pending.
	States map[string]int64
	// OldestDue is when the oldest job that is due and not yet running
	// became due; zero when none is.
	OldestDue time.Time
}

// JobCounts reads River's job table (river_job) by kind and state. The table
// lives in the app's database, so every replica reports the same numbers.
func (s *Store) JobCounts(ctx context.Context) ([]JobCounts, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT kind, state::text, count(*),
		       COALESCE(min(scheduled_at) FILTER (WHERE state IN ('available', 'retryable', 'scheduled')
		                                              AND scheduled_at <= now()), 'epoch')
		  FROM river_job GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("ledger: job counts: %w", err)
	}
	var out []JobCounts
	var kind, state string
	var n int64
	var due time.Time
	_, err = pgx.ForEachRow(rows, []any{&kind, &state, &n, &due}, func() error {
		if len(out) == 0 || out[len(out)-1].Kind != kind {
			out = append(out, JobCounts{Kind: kind, States: map[string]int64{}})
		}
		c := &out[len(out)-1]
		c.States[state] = n
		if !due.Equal(time.Unix(0, 0)) && (c.OldestDue.IsZero() || due.Before(c.OldestDue)) {
			c.OldestDue = due
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: job counts: %w", err)
	}
	return out, nil
}
