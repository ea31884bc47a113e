// Package queue runs durable background work stored in Postgres.
//
// A job is a row in the jobs table, enqueued with Enqueue inside the same
// transaction as the fact that needs it, so the work exists exactly when the
// fact does. Workers on every replica claim due jobs with FOR UPDATE SKIP
// LOCKED and hold the row lock while the handler runs: if the process dies,
// the transaction aborts and the job is simply available again. Handlers
// must therefore be idempotent, which for Whop calls means an idempotency
// key derived from the job's key.
//
// Why not a queue library: the jobs here are few, tied to rows of ours and
// enqueued inside our own transactions; a table, an index and one claiming
// query (below) do it with no second schema to migrate and nothing that can
// disagree with the facts.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Execer is what Enqueue needs: a pgx.Tx, a *pgxpool.Pool or a *pgx.Conn.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Job is a claimed job, handed to its handler.
type Job struct {
	ID      int64
	Kind    string
	Key     string
	Args    json.RawMessage
	Attempt int // 1 on the first run
}

// Handler does a job's work. Returning an error retries it later with
// backoff; returning a Permanent error discards it.
type Handler func(ctx context.Context, j Job) error

// Permanent marks an error that retrying cannot fix.
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ error }

func (p permanentError) Unwrap() error { return p.error }

// Enqueue adds a job unless one with the same key exists, and reports
// whether it added one. Run it in the transaction that records the fact the
// job serves.
func Enqueue(ctx context.Context, db Execer, kind, key string, args any, runAt time.Time) (bool, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return false, fmt.Errorf("queue: encode %s args: %w", kind, err)
	}
	var at any
	if !runAt.IsZero() {
		at = runAt
	}
	tag, err := db.Exec(ctx, `
		INSERT INTO jobs (kind, key, args, run_at) VALUES ($1, $2, $3, COALESCE($4::timestamptz, now()))
		ON CONFLICT (key) DO NOTHING`, kind, key, b, at)
	if err != nil {
		return false, fmt.Errorf("queue: enqueue %s: %w", key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Queue claims and runs jobs.
type Queue struct {
	pool     *pgxpool.Pool
	log      *slog.Logger
	workers  int
	poll     time.Duration
	grace    time.Duration
	backoff  func(attempt int) time.Duration
	handlers map[string]Handler
	periodic []periodic
	now      func() time.Time

	mu    sync.Mutex
	stats Stats
}

type periodic struct {
	kind     string
	interval time.Duration
}

// Stats count what this process's workers did.
type Stats struct {
	Completed, Retried, Discarded int64
}

// Option configures a Queue.
type Option func(*Queue)

// WithWorkers sets how many jobs run at once in this process (default 4).
func WithWorkers(n int) Option { return func(q *Queue) { q.workers = n } }

// WithPoll sets how often idle workers look for due jobs (default 500 ms).
func WithPoll(d time.Duration) Option { return func(q *Queue) { q.poll = d } }

// WithGrace bounds how long a running job may go on after shutdown begins
// (default 20 s); after that its context ends and the job is handed back.
func WithGrace(d time.Duration) Option { return func(q *Queue) { q.grace = d } }

// WithBackoff replaces the retry delay after a failed attempt.
func WithBackoff(f func(attempt int) time.Duration) Option { return func(q *Queue) { q.backoff = f } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(q *Queue) { q.log = l } }

// WithClock replaces time.Now for periodic scheduling.
func WithClock(now func() time.Time) Option { return func(q *Queue) { q.now = now } }

// New returns a Queue on pool.
func New(pool *pgxpool.Pool, opts ...Option) *Queue {
	q := &Queue{pool: pool, log: slog.New(slog.DiscardHandler), workers: 4, poll: 500 * time.Millisecond,
		grace: 20 * time.Second, backoff: DefaultBackoff, handlers: map[string]Handler{}, now: time.Now}
	for _, o := range opts {
		o(q)
	}
	return q
}

// DefaultBackoff waits 2^attempt seconds (capped at an hour) with ±20 %
// jitter: about an hour and a quarter over the first 12 attempts, then one
// attempt an hour for as long as the job's max_attempts allows (1,000 by
// default, some six weeks).
func DefaultBackoff(attempt int) time.Duration {
	d := time.Duration(1<<min(attempt, 12)) * time.Second
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Handle registers the handler of a kind. Call before Run.
func (q *Queue) Handle(kind string, h Handler) { q.handlers[kind] = h }

// Every schedules a job of kind every interval: each period has its own key,
// so however many replicas run, one job per period is enqueued. A period
// whose predecessor is still pending or running is skipped, not queued:
// periodic work of one kind never runs twice at once, and a run that takes
// longer than the interval cannot make runs pile up and take every worker.
// Its handler must be registered with Handle.
func (q *Queue) Every(kind string, interval time.Duration) {
	q.periodic = append(q.periodic, periodic{kind, interval})
}

// Stats returns what this process's workers did so far.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stats
}

var errNoJob = errors.New("queue: no job due")

// Run works until ctx ends, then waits for running jobs (up to the grace
// period) and returns.
func (q *Queue) Run(ctx context.Context) error {
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	go func() {
		<-ctx.Done()
		time.Sleep(q.grace)
		stopWork()
	}()
	var wg sync.WaitGroup
	for i := 0; i < q.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.worker(ctx, work)
		}()
	}
	if len(q.periodic) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.schedule(ctx)
		}()
	}
	wg.Wait()
	return nil
}

func (q *Queue) worker(ctx, work context.Context) {
	for ctx.Err() == nil {
		err := q.RunNext(work)
		if err == nil {
			continue
		}
		if !errors.Is(err, errNoJob) {
			q.log.Error("queue: claim", "error", err.Error())
		}
		select {
		case <-ctx.Done():
		case <-time.After(q.poll):
		}
	}
}

func (q *Queue) schedule(ctx context.Context) {
	tick := time.NewTicker(q.poll)
	defer tick.Stop()
	for {
		for _, p := range q.periodic {
			bucket := q.now().UTC().Truncate(p.interval)
			key := p.kind + ":" + bucket.Format(time.RFC3339)
			if err := enqueuePeriodic(ctx, q.pool, p.kind, key, bucket); err != nil && ctx.Err() == nil {
				q.log.Error("queue: schedule", "kind", p.kind, "error", err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// enqueuePeriodic adds a period's job unless a job of that kind is still
// available, i.e. waiting or running (a running job keeps its row, locked,
// in the available state until it finishes). The partial due-index keeps
// the check cheap however many finished jobs the table holds. Two replicas
// checking at once for the same period still insert one row: the key is
// UNIQUE.
func enqueuePeriodic(ctx context.Context, db Execer, kind, key string, runAt time.Time) error {
	_, err := db.Exec(ctx, `
		INSERT INTO jobs (kind, key, run_at)
		SELECT $1, $2, $3
		 WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE state = 'available' AND kind = $1)
		ON CONFLICT (key) DO NOTHING`, kind, key, runAt)
	if err != nil {
		return fmt.Errorf("queue: enqueue %s: %w", key, err)
	}
	return nil
}
