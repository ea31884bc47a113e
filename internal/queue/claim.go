package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// claimSQL takes the oldest due job nobody else holds. SKIP LOCKED is what
// lets any number of workers on any number of replicas share the table.
const claimSQL = `
	SELECT id, kind, key, args, attempts, max_attempts FROM jobs
	 WHERE state = 'available' AND run_at <= now()
	 ORDER BY run_at, id
	 LIMIT 1
	   FOR UPDATE SKIP LOCKED`

// RunNext claims one due job and runs it, holding its row lock throughout.
// It returns errNoJob when nothing is due. Tests call it (or Drain) to run
// jobs deterministically.
func (q *Queue) RunNext(ctx context.Context) error {
	return pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		var j Job
		var attempts, maxAttempts int
		err := tx.QueryRow(ctx, claimSQL).Scan(&j.ID, &j.Kind, &j.Key, &j.Args, &attempts, &maxAttempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoJob
		}
		if err != nil {
			return err
		}
		j.Attempt = attempts + 1
		h := q.handlers[j.Kind]
		var runErr error
		if h == nil {
			runErr = Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
		} else {
			runErr = safely(ctx, h, j)
		}
		return q.finish(ctx, tx, j, maxAttempts, runErr)
	})
}

// Drain runs due jobs until none is left, and returns how many it ran.
func (q *Queue) Drain(ctx context.Context) (int, error) {
	n := 0
	for {
		err := q.RunNext(ctx)
		if errors.Is(err, errNoJob) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func (q *Queue) finish(ctx context.Context, tx pgx.Tx, j Job, maxAttempts int, runErr error) error {
	var perm permanentError
	switch {
	case runErr == nil:
		q.count(func(s *Stats) { s.Completed++ })
		_, err := tx.Exec(ctx, `UPDATE jobs SET state = 'completed', attempts = $2, last_error = '',
			finished_at = now(), updated_at = now() WHERE id = $1`, j.ID, j.Attempt)
		return err
	case errors.As(runErr, &perm) || j.Attempt >= maxAttempts:
		q.count(func(s *Stats) { s.Discarded++ })
		q.log.Error("queue: job discarded", slog.String("kind", j.Kind), slog.String("key", j.Key),
			slog.Int("attempt", j.Attempt), slog.String("error", runErr.Error()))
		_, err := tx.Exec(ctx, `UPDATE jobs SET state = 'discarded', attempts = $2, last_error = $3,
			finished_at = now(), updated_at = now() WHERE id = $1`, j.ID, j.Attempt, runErr.Error())
		return err
	default:
		q.count(func(s *Stats) { s.Retried++ })
		wait := q.backoff(j.Attempt)
		q.log.Warn("queue: job failed, will retry", slog.String("kind", j.Kind), slog.String("key", j.Key),
			slog.Int("attempt", j.Attempt), slog.Duration("in", wait), slog.String("error", runErr.Error()))
		_, err := tx.Exec(ctx, `UPDATE jobs SET attempts = $2, last_error = $3, run_at = now() + $4::interval,
			updated_at = now() WHERE id = $1`, j.ID, j.Attempt, runErr.Error(), fmt.Sprintf("%d microseconds", wait.Microseconds()))
		return err
	}
}

func (q *Queue) count(f func(*Stats)) {
	q.mu.Lock()
	f(&q.stats)
	q.mu.Unlock()
}

// safely runs h, turning a panic into an error so one bad job cannot stop
// a worker (or leave its row locked until the process dies).
func safely(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job panicked: %v", r)
		}
	}()
	return h(ctx, j)
}

// Counts are how many jobs are in each state, by kind, for metrics and the
// dashboard.
type Counts struct {
	Kind                            string
	Available, Completed, Discarded int64
	OldestDue                       time.Time // zero when nothing is due
}

// Counts reads the job table's state by kind.
func (q *Queue) Counts(ctx context.Context) ([]Counts, error) {
	rows, err := q.pool.Query(ctx, `
		SELECT kind,
		       count(*) FILTER (WHERE state = 'available'),
		       count(*) FILTER (WHERE state = 'completed'),
		       count(*) FILTER (WHERE state = 'discarded'),
		       COALESCE(min(run_at) FILTER (WHERE state = 'available' AND run_at <= now()), 'epoch')
		  FROM jobs GROUP BY kind ORDER BY kind`)
	if err != nil {
		return nil, fmt.Errorf("queue: counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Counts, error) {
		var c Counts
		err := r.Scan(&c.Kind, &c.Available, &c.Completed, &c.Discarded, &c.OldestDue)
		if c.OldestDue.Equal(time.Unix(0, 0)) {
			c.OldestDue = time.Time{}
		}
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("queue: counts: %w", err)
	}
	return out, nil
}
