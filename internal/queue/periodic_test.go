package queue_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/internal/queue"
	"github.com/jackc/pgx/v5"
)

// TestPeriodicJobNeverOverlapsItself: a run that outlasts its interval
// holds back the next periods on every replica (they are skipped, not
// queued), so runs never overlap or pile up; after it finishes, the
// current period runs once.
func TestPeriodicJobNeverOverlapsItself(t *testing.T) {
	db := pgtest.New(t)
	var mu sync.Mutex
	now := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	var running, most, runs atomic.Int32
	started, release := make(chan struct{}, 64), make(chan struct{})
	var releaseOnce sync.Once
	let := func() { releaseOnce.Do(func() { close(release) }) }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// A failing test must not leave workers blocked.
	t.Cleanup(func() { let(); cancel(); wg.Wait() })
	for range 2 { // two replicas, two workers each
		q := queue.New(db.Pool, queue.WithWorkers(2), queue.WithPoll(10*time.Millisecond), queue.WithClock(clock), queue.WithGrace(0))
		q.Handle("sweep", func(ctx context.Context, j queue.Job) error {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			runs.Add(1)
			started <- struct{}{}
			if j.Key == "sweep:2026-11-22T10:00:00Z" {
				<-release // the first run outlasts two intervals
			}
			return nil
		})
		q.Every("sweep", time.Minute)
		wg.Add(1)
		go func() { defer wg.Done(); q.Run(ctx) }()
	}
	<-started
	advance(time.Minute)
	time.Sleep(100 * time.Millisecond) // ten polls of each replica during the 10:01 period
	advance(time.Minute)
	time.Sleep(100 * time.Millisecond)
	if n := count(t, db, `SELECT count(*) FROM jobs`); n != 1 {
		t.Fatalf("%d jobs while the first run is still going, want 1: later periods must wait", n)
	}
	let()
	select {
	case <-started: // the 10:02 period, once the 10:00 run is done
	case <-time.After(5 * time.Second):
		t.Fatal("the current period never ran after the long run finished")
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()

	rows, _ := db.Pool.Query(context.Background(), `SELECT key FROM jobs ORDER BY key`)
	keys, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	if len(keys) != 2 || keys[0] != "sweep:2026-11-22T10:00:00Z" || keys[1] != "sweep:2026-11-22T10:02:00Z" {
		t.Errorf("periodic jobs = %v, want 10:00 and 10:02 (10:01 skipped while 10:00 ran)", keys)
	}
	if most.Load() != 1 || runs.Load() != 2 {
		t.Errorf("%d runs, at most %d at once; want 2 runs, never overlapping", runs.Load(), most.Load())
	}
}

func count(t *testing.T, db *pgtest.DB, sql string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
