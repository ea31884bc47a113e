package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReconcilerRun is one pass of the reconciler over a window of payments.
type ReconcilerRun struct {
	ID           int64
	StartedAt    time.Time
	FinishedAt   time.Time // zero while running, or if the run died
	WindowStart  time.Time
	WindowEnd    time.Time
	PaymentsSeen int
	Credited     int // purchases it fulfilled that nothing else had (counted as each commits)
	Refunded     int // refunds it applied that nothing else had (likewise)
	Rejected     int
	// Failures are purchases it recorded a failed payment on that no
	// webhook had (counted when the run finishes).
	Failures int
	Error    string
}

// ReconcileFrom is where the next window starts: the end of the newest
// successful run; while none has succeeded, the start of the first run, so
// a reconciler that keeps failing never lets old payments fall out of its
// window; the zero time before any run.
func (s *Store) ReconcileFrom(ctx context.Context) (time.Time, error) {
	var t *time.Time
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(
		(SELECT window_end FROM reconciler_runs WHERE finished_at IS NOT NULL AND error = ''
		  ORDER BY window_end DESC LIMIT 1),
		(SELECT min(window_start) FROM reconciler_runs))`).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger: reconcile checkpoint: %w", err)
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}

// ErrReconcilerRunning means another reconciler run is still going, on this
// replica or another; the new one did not start.
var ErrReconcilerRunning = errors.New("ledger: a reconciler run is already going")

// ReconcilerRunStale is how long an unfinished run may go without a
// heartbeat (BeatReconcilerRun) before the next run takes it for dead: its
// process crashed, or lost the database, before it could finish.
const ReconcilerRunStale = 30 * time.Second

// StartReconcilerRun records that a run began over [from, to], unless one is
// still going (ErrReconcilerRunning): a unique index allows one unfinished
// run, whichever replica races to start. An unfinished run without a recent
// heartbeat is closed first as abandoned.
func (s *Store) StartReconcilerRun(ctx context.Context, from, to time.Time) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE reconciler_runs SET finished_at = now(),
			error = 'abandoned: no heartbeat since ' || to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
			WHERE finished_at IS NULL AND heartbeat_at < now() - $1::interval`,
			fmt.Sprintf("%d milliseconds", ReconcilerRunStale.Milliseconds())); err != nil {
			return fmt.Errorf("close abandoned runs: %w", err)
		}
		err := tx.QueryRow(ctx, `INSERT INTO reconciler_runs (window_start, window_end) VALUES ($1, $2)
			ON CONFLICT DO NOTHING RETURNING id`, from, to).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrReconcilerRunning
		}
		return err
	})
	if err != nil && !errors.Is(err, ErrReconcilerRunning) {
		err = fmt.Errorf("ledger: start reconciler run: %w", err)
	}
	return id, err
}

// BeatReconcilerRun says that run id is still going.
func (s *Store) BeatReconcilerRun(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE reconciler_runs SET heartbeat_at = now() WHERE id = $1 AND finished_at IS NULL`, id); err != nil {
		return fmt.Errorf("ledger: reconciler heartbeat: %w", err)
	}
	return nil
}

// FinishReconcilerRun records a run's outcome and what it saw; a run with
// an error does not move the checkpoint. Its credited and refunded counts
// are not written here: Settle counts each repair in the transaction that
// makes it (Settlement.ReconcilerRun). A run already closed as abandoned
// stays so.
func (s *Store) FinishReconcilerRun(ctx context.Context, r ReconcilerRun) error {
	_, err := s.pool.Exec(ctx, `UPDATE reconciler_runs SET finished_at = now(), payments_seen = $2,
		rejected = $3, failures_recorded = $4, error = $5 WHERE id = $1 AND finished_at IS NULL`,
		r.ID, r.PaymentsSeen, r.Rejected, r.Failures, r.Error)
	if err != nil {
		return fmt.Errorf("ledger: finish reconciler run: %w", err)
	}
	return nil
}

// ReconcilerRuns returns the newest runs first.
func (s *Store) ReconcilerRuns(ctx context.Context, limit int) ([]ReconcilerRun, error) {
	return queryAll(ctx, s.pool, "reconciler runs", func(r pgx.CollectableRow) (ReconcilerRun, error) {
		var run ReconcilerRun
		err := r.Scan(&run.ID, &run.StartedAt, &run.FinishedAt, &run.WindowStart, &run.WindowEnd,
			&run.PaymentsSeen, &run.Credited, &run.Refunded, &run.Rejected, &run.Failures, &run.Error)
		if run.FinishedAt.Equal(time.Unix(0, 0)) {
			run.FinishedAt = time.Time{}
		}
		return run, err
	},
		`SELECT id, started_at, COALESCE(finished_at, 'epoch'), window_start, window_end,
		payments_seen, credited, refunded, rejected, failures_recorded, error FROM reconciler_runs ORDER BY id DESC LIMIT $1`, limit)
}

// ReconcilerTotals counts the finished runs and sums what every run did,
// finished or not (a run cut short still repaired what it counted), for
// metrics shared by replicas.
type ReconcilerTotals struct {
	Runs, Failed                                         int64
	PaymentsSeen, Credited, Refunded, Rejected, Failures int64
	LastSuccess                                          time.Time
}

// ReconcilerTotals reads the totals over all runs.
func (s *Store) ReconcilerTotals(ctx context.Context) (ReconcilerTotals, error) {
	var t ReconcilerTotals
	err := s.pool.QueryRow(ctx, `SELECT count(finished_at), count(finished_at) FILTER (WHERE error <> ''),
		COALESCE(sum(payments_seen), 0), COALESCE(sum(credited), 0), COALESCE(sum(refunded), 0), COALESCE(sum(rejected), 0),
		COALESCE(sum(failures_recorded), 0), COALESCE(max(finished_at) FILTER (WHERE error = ''), 'epoch')
		FROM reconciler_runs`).
		Scan(&t.Runs, &t.Failed, &t.PaymentsSeen, &t.Credited, &t.Refunded, &t.Rejected, &t.Failures, &t.LastSuccess)
	if err != nil {
		return t, fmt.Errorf("ledger: reconciler totals: %w", err)
	}
	if t.LastSuccess.Equal(time.Unix(0, 0)) {
		t.LastSuccess = time.Time{}
	}
	return t, nil
}
