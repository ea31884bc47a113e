package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/internal/queue"
	"github.com/jackc/pgx/v5"
)

type jobRow struct {
	state, lastError string
	attempts         int
	runAt            time.Time
	finished         bool
}

func row(t *testing.T, db *pgtest.DB, key string) jobRow {
	t.Helper()
	var r jobRow
	var fin *time.Time
	err := db.Pool.QueryRow(context.Background(),
		`SELECT state, last_error, attempts, run_at, finished_at FROM jobs WHERE key = $1`, key).
		Scan(&r.state, &r.lastError, &r.attempts, &r.runAt, &fin)
	if err != nil {
		t.Fatalf("job %s: %v", key, err)
	}
	r.finished = fin != nil
	return r
}

func TestEnqueueIsIdempotentAndTransactional(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	added, err := queue.Enqueue(ctx, db.Pool, "share", "share:pay_1", map[string]string{"payment": "pay_1"}, time.Time{})
	if err != nil || !added {
		t.Fatalf("first enqueue: %t %v", added, err)
	}
	added, err = queue.Enqueue(ctx, db.Pool, "share", "share:pay_1", map[string]string{"payment": "other"}, time.Time{})
	if err != nil || added {
		t.Fatalf("same key again: added=%t err=%v, want a no-op", added, err)
	}
	// A job enqueued in a transaction that rolls back never exists.
	pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		queue.Enqueue(ctx, tx, "share", "share:pay_2", nil, time.Time{})
		return errors.New("roll back")
	})
	var n int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&n)
	if n != 1 {
		t.Fatalf("jobs = %d, want 1", n)
	}
	var args string
	db.Pool.QueryRow(ctx, `SELECT args::text FROM jobs WHERE key = 'share:pay_1'`).Scan(&args)
	if args != `{"payment": "pay_1"}` {
		t.Fatalf("args = %s, want the first enqueue's", args)
	}
}

func TestRunCompletesRetriesAndDiscards(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	q := queue.New(db.Pool, queue.WithBackoff(func(int) time.Duration { return time.Hour }))
	var calls atomic.Int32
	q.Handle("ok", func(ctx context.Context, j queue.Job) error {
		calls.Add(1)
		if string(j.Args) != `{"n": 1}` || j.Attempt != 1 || j.Kind != "ok" || j.Key != "ok:1" {
			t.Errorf("job = %+v args %s", j, j.Args)
		}
		return nil
	})
	q.Handle("flaky", func(ctx context.Context, j queue.Job) error { return errors.New("whop is down") })
	q.Handle("broken", func(ctx context.Context, j queue.Job) error { return queue.Permanent(errors.New("bad recipient")) })
	q.Handle("panics", func(ctx context.Context, j queue.Job) error { panic("boom") })
	for _, k := range []string{"ok", "flaky", "broken", "panics", "unknown"} {
		queue.Enqueue(ctx, db.Pool, k, k+":1", map[string]int{"n": 1}, time.Time{})
	}
	counts, err := q.Counts(ctx)
	if err != nil || len(counts) != 5 {
		t.Fatalf("counts before running = %+v, %v", counts, err)
	}
	for _, c := range counts {
		if c.Available != 1 || c.Completed != 0 || c.Discarded != 0 || c.OldestDue.IsZero() {
			t.Errorf("%s before running = %+v, want one due job", c.Kind, c)
		}
	}
	ran, err := q.Drain(ctx)
	if err != nil || ran != 5 {
		t.Fatalf("drain ran %d, err %v; want 5", ran, err)
	}
	before := time.Now()
	checks := []struct {
		key, state, errText string
		attempts            int
		finished            bool
	}{
		{"ok:1", "completed", "", 1, true},
		{"flaky:1", "available", "whop is down", 1, false},
		{"broken:1", "discarded", "bad recipient", 1, true},
		{"panics:1", "available", "job panicked: boom", 1, false},
		{"unknown:1", "discarded", `no handler for job kind "unknown"`, 1, true},
	}
	for _, c := range checks {
		r := row(t, db, c.key)
		if r.state != c.state || r.lastError != c.errText || r.attempts != c.attempts || r.finished != c.finished {
			t.Errorf("%s = %+v, want state %s error %q attempts %d finished %t", c.key, r, c.state, c.errText, c.attempts, c.finished)
		}
	}
	if r := row(t, db, "flaky:1"); r.runAt.Before(before.Add(59 * time.Minute)) {
		t.Errorf("retry scheduled at %v, want about an hour out", r.runAt)
	}
	if ran, _ := q.Drain(ctx); ran != 0 {
		t.Errorf("a retry ran %d jobs before its time", ran)
	}
	if calls.Load() != 1 {
		t.Errorf("ok ran %d times", calls.Load())
	}
	if st := q.Stats(); st != (queue.Stats{Completed: 1, Retried: 2, Discarded: 2}) {
		t.Errorf("stats = %+v", st)
	}
	// The retries wait an hour, so nothing is due.
	counts, err = q.Counts(ctx)
	want := []queue.Counts{
		{Kind: "broken", Discarded: 1},
		{Kind: "flaky", Available: 1},
		{Kind: "ok", Completed: 1},
		{Kind: "panics", Available: 1},
		{Kind: "unknown", Discarded: 1},
	}
	if err != nil || !slices.Equal(counts, want) {
		t.Fatalf("counts = %+v, %v\nwant %+v", counts, err, want)
	}
}

func TestMaxAttemptsDiscards(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	q := queue.New(db.Pool, queue.WithBackoff(func(int) time.Duration { return 0 }))
	q.Handle("flaky", func(ctx context.Context, j queue.Job) error { return fmt.Errorf("attempt %d failed", j.Attempt) })
	queue.Enqueue(ctx, db.Pool, "flaky", "flaky:1", nil, time.Time{})
	db.Pool.Exec(ctx, `UPDATE jobs SET max_attempts = 3`)
	q.Drain(ctx)
	r := row(t, db, "flaky:1")
	if r.state != "discarded" || r.attempts != 3 || r.lastError != "attempt 3 failed" {
		t.Fatalf("after 3 failures: %+v", r)
	}
}

// TestManyWorkersRunEachJobOnce runs two queues (two replicas) with four
// workers each against one table.
func TestManyWorkersRunEachJobOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	const jobs = 200
	var mu sync.Mutex
	seen := map[string]int{}
	var done sync.WaitGroup
	done.Add(jobs)
	handler := func(ctx context.Context, j queue.Job) error {
		mu.Lock()
		seen[j.Key]++
		mu.Unlock()
		done.Done()
		return nil
	}
	for i := 0; i < jobs; i++ {
		queue.Enqueue(ctx, db.Pool, "work", fmt.Sprint("work:", i), nil, time.Time{})
	}
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		q := queue.New(db.Pool, queue.WithWorkers(4), queue.WithPoll(10*time.Millisecond), queue.WithGrace(time.Second))
		q.Handle("work", handler)
		wg.Add(1)
		go func() { defer wg.Done(); q.Run(ctx) }()
	}
	done.Wait()
	cancel()
	wg.Wait()
	if len(seen) != jobs {
		t.Fatalf("ran %d distinct jobs, want %d", len(seen), jobs)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s ran %d times", k, n)
		}
	}
}

// TestInterruptedJobIsHandedBack: a job whose worker stops mid-run (the
// grace period ends, or the process dies) is available again, not lost.
func TestInterruptedJobIsHandedBack(t *testing.T) {
	db := pgtest.New(t)
	queue.Enqueue(context.Background(), db.Pool, "slow", "slow:1", nil, time.Time{})
	started := make(chan struct{})
	q := queue.New(db.Pool, queue.WithWorkers(1), queue.WithPoll(10*time.Millisecond), queue.WithGrace(100*time.Millisecond))
	q.Handle("slow", func(ctx context.Context, j queue.Job) error {
		close(started)
		<-ctx.Done() // runs past the grace period
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	q.Run(ctx)
	r := row(t, db, "slow:1")
	if r.state != "available" || r.attempts != 0 || r.finished {
		t.Fatalf("interrupted job = %+v, want handed back untouched", r)
	}
	q2 := queue.New(db.Pool)
	q2.Handle("slow", func(context.Context, queue.Job) error { return nil })
	if n, err := q2.Drain(context.Background()); n != 1 || err != nil {
		t.Fatalf("another worker ran %d (%v), want the handed-back job", n, err)
	}
}

func TestEveryEnqueuesOncePerPeriodAcrossReplicas(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for r := 0; r < 3; r++ {
		q := queue.New(db.Pool, queue.WithWorkers(0), queue.WithPoll(10*time.Millisecond), queue.WithClock(clock), queue.WithGrace(0))
		q.Every("reconcile", time.Minute)
		wg.Add(1)
		go func() { defer wg.Done(); q.Run(ctx) }()
	}
	wg.Wait()
	var keys []string
	rows, _ := db.Pool.Query(context.Background(), `SELECT key FROM jobs ORDER BY key`)
	keys, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	if len(keys) != 1 || keys[0] != "reconcile:2026-11-22T10:00:00Z" {
		t.Fatalf("periodic jobs = %v, want one for the 10:00 period", keys)
	}
}
