package billing

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
)

// slowListing is Whop's payments list, empty, taking a while to answer.
type slowListing struct {
	Whop
	delay atomic.Int64 // nanoseconds
}

func (f *slowListing) ListPayments(ctx context.Context, _ whop.ListPaymentsParams) iter.Seq2[*whop.Payment, error] {
	return func(yield func(*whop.Payment, error) bool) {
		select {
		case <-time.After(time.Duration(f.delay.Load())):
		case <-ctx.Done():
			yield(nil, ctx.Err())
		}
	}
}

// TestOneReconcilerRunPerPeriodAcrossThreeReplicas runs three River clients,
// each a replica with workers and the periodic reconciler configured, on one
// database. River's elected leader alone enqueues the reconcile job, one per
// period: every period has at most one job, each job runs once on one
// replica, and every job makes one run while runs are quick. The leader is
// then stopped, as a replica going away: another takes over and the periods
// go on. Finally runs are made slower than the period: a period whose
// predecessor is still going skips, so no two runs ever overlap.
func TestOneReconcilerRunPerPeriodAcrossThreeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several seconds")
	}
	db := pgtest.New(t)
	ctx := context.Background()
	const period = time.Second // River's shortest unique period
	fake := &slowListing{}
	fake.delay.Store(int64(20 * time.Millisecond))
	replicas := make([]*Jobs, 3)
	for i := range replicas {
		jobs, err := NewJobs(db.Pool, JobsConfig{Workers: 2, ReconcileEvery: period, ClientID: fmt.Sprintf("replica-%d", i),
			FetchPollInterval: 20 * time.Millisecond, TestOnly: true, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		store := ledger.NewStore(db.Pool, ledger.WithJobs(jobs))
		jobs.Register(New(fake, store, Config{CompanyID: "biz_owner", Currency: money.USD}))
		if err := jobs.Start(ctx); err != nil {
			t.Fatal(err)
		}
		replicas[i] = jobs
		t.Cleanup(func() { jobs.Stop(context.Background()) })
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	leader := func() string {
		t.Helper()
		var id string
		deadline := time.Now().Add(10 * time.Second)
		for db.Pool.QueryRow(ctx, `SELECT leader_id FROM river_leader`).Scan(&id) != nil {
			if time.Now().After(deadline) {
				t.Fatal("no River leader elected in 10 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		return id
	}

	// Quick runs, three replicas: one job and one run per period.
	first := leader()
	time.Sleep(5 * period)
	var stopped int
	fmt.Sscanf(first, "replica-%d", &stopped)
	if err := replicas[stopped].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	// The others elect a new leader, whose schedule goes on.
	deadline := time.Now().Add(10 * time.Second)
	for count(`SELECT count(*) FROM river_job WHERE kind = 'reconcile' AND created_at > $1`, stoppedAt) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no reconcile jobs after %s stopped", first)
		}
		time.Sleep(50 * time.Millisecond)
	}
	second := leader()
	// Slow runs: each outlasts a period and a half.
	fake.delay.Store(int64(period * 3 / 2))
	slowFrom := time.Now()
	time.Sleep(6 * period)
	for i, r := range replicas {
		if i != stopped {
			if err := r.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	jobs := count(`SELECT count(*) FROM river_job WHERE kind = 'reconcile'`)
	perPeriod := count(`SELECT COALESCE(max(n), 0) FROM (SELECT count(*) AS n FROM river_job WHERE kind = 'reconcile'
		GROUP BY floor(extract(epoch FROM scheduled_at) * 1000 / $1)) p`, period.Milliseconds())
	ranOnce := count(`SELECT count(*) FROM river_job WHERE kind = 'reconcile' AND state = 'completed'
		AND attempt = 1 AND cardinality(attempted_by) = 1`)
	byReplica := count(`SELECT count(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'reconcile'`)
	runs := count(`SELECT count(*) FROM reconciler_runs`)
	// A run belongs to the job last attempted before it started: a job's
	// run starts milliseconds after River hands the job out, and the next
	// job comes a period later. Runs are put in a phase by their job, not by
	// their own start, which for a job handed out just before slowFrom falls
	// just after it.
	const runJobs = `SELECT j.id, j.attempted_at FROM reconciler_runs r CROSS JOIN LATERAL (
		SELECT id, attempted_at FROM river_job WHERE kind = 'reconcile' AND attempted_at <= r.started_at
		ORDER BY attempted_at DESC, id DESC LIMIT 1) j`
	quickRuns := count(`SELECT count(*) FROM (`+runJobs+`) rj WHERE attempted_at < $1`, slowFrom)
	quickJobs := count(`SELECT count(*) FROM river_job WHERE kind = 'reconcile' AND attempted_at < $1`, slowFrom)
	slowRuns := count(`SELECT count(*) FROM (`+runJobs+`) rj WHERE attempted_at >= $1`, slowFrom)
	slowJobs := count(`SELECT count(*) FROM river_job WHERE kind = 'reconcile' AND attempted_at >= $1`, slowFrom)
	runsPerJob := count(`SELECT COALESCE(max(n), 0) FROM (SELECT count(*) AS n FROM (` + runJobs + `) rj GROUP BY id) g`)
	overlapping := count(`SELECT count(*) FROM reconciler_runs r1 JOIN reconciler_runs r2 ON r1.id < r2.id
		WHERE r2.started_at < COALESCE(r1.finished_at, 'infinity') AND r1.started_at < COALESCE(r2.finished_at, 'infinity')`)
	unfinished := count(`SELECT count(*) FROM reconciler_runs WHERE finished_at IS NULL OR error <> ''`)
	elapsed := time.Since(slowFrom) + slowFrom.Sub(stoppedAt) + 5*period
	t.Logf("leaders %s then %s; %d reconcile jobs in about %v (period %v), at most %d per period, run by %d replicas; %d runs (%d of %d jobs while quick, %d of %d while slow), %d overlapping",
		first, second, jobs, elapsed.Round(100*time.Millisecond), period, perPeriod, byReplica, runs, quickRuns, quickJobs, slowRuns, slowJobs, overlapping)

	if second == first {
		t.Errorf("leader still %s after it stopped", first)
	}
	if perPeriod != 1 || jobs > int(elapsed/period)+2 || jobs < 8 {
		t.Errorf("%d reconcile jobs in %v, at most %d in one period: want one per period of %v", jobs, elapsed, perPeriod, period)
	}
	// The leader may enqueue one last job as the replicas stop, which no
	// one is left to work; every job that was worked ran once, on one.
	unworked := count(`SELECT count(*) FROM river_job WHERE kind = 'reconcile' AND attempted_at IS NULL AND attempt = 0`)
	if ranOnce != jobs-unworked || unworked > 1 {
		t.Errorf("%d of %d reconcile jobs completed on their first attempt by one replica (%d never worked, at most 1 may be)",
			ranOnce, jobs, unworked)
	}
	if runsPerJob > 1 || quickRuns+slowRuns != runs {
		t.Errorf("%d runs, %d of them paired with a job, up to %d for one job: want every run started by its own job", runs, quickRuns+slowRuns, runsPerJob)
	}
	if quickRuns != quickJobs || quickRuns < 4 {
		t.Errorf("while runs were quick: %d runs for %d jobs, want one run per job", quickRuns, quickJobs)
	}
	if slowRuns >= slowJobs || slowRuns == 0 {
		t.Errorf("while runs outlasted the period: %d runs for %d jobs, want periods skipped while a run was going", slowRuns, slowJobs)
	}
	if overlapping != 0 || unfinished != 0 {
		t.Errorf("%d pairs of runs overlapped, %d runs unfinished or failed", overlapping, unfinished)
	}
}

// testLogger shows River's own log with CREDITKIT_TEST_LOG=1.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	if os.Getenv("CREDITKIT_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
