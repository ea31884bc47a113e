package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Billing's background work runs on River (github.com/riverqueue/river):
// jobs are rows of river_job, inserted in the transaction of the fact that
// needs them, worked by any replica with WORKERS > 0, retried with backoff,
// and the periodic reconciler is enqueued by River's elected leader alone.
// No transaction is open while a job runs: River marks the job running in
// one statement, the worker does its own short transactions, and River
// records the outcome in another.

// Job kinds billing runs.
const (
	// JobReconcile lists Whop's recent payments and repairs what the
	// webhooks missed; River's leader enqueues one per interval.
	JobReconcile = "reconcile"
	// JobRevenueShare pays a creator's share of a sale; the ledger asks for
	// it with the fulfilment.
	JobRevenueShare = ledger.JobRevenueShare
	// JobPayout finishes a payout Whop did not confirm at once; the ledger
	// asks for it with the payout.
	JobPayout = ledger.JobPayout
)

// Retry limits. A transfer is retried until Whop pays or refuses it (a
// refusal cancels the job): at the one-hour cap, 1,000 attempts is some six
// weeks. A reconcile run is never retried: the next period covers its window.
const (
	TransferMaxAttempts = 1000
	// TransferJobTimeout bounds one transfer attempt: the Whop client's
	// own timeout (30 s) and retries fit inside it.
	TransferJobTimeout = 2 * time.Minute
	// ReconcileJobTimeout bounds one reconciler pass.
	ReconcileJobTimeout = 10 * time.Minute
	// RescueStuckJobsAfter is when a job still marked running (its process
	// died mid-job) is handed back to be retried.
	RescueStuckJobsAfter = ReconcileJobTimeout + time.Minute
)

// ReconcileJob is the reconciler job's arguments: none, a run covers the
// window since the last success.
type ReconcileJob struct{}

// Kind names the job.
func (ReconcileJob) Kind() string { return JobReconcile }

// JobsConfig is how this process inserts and runs background jobs.
type JobsConfig struct {
	// Workers is how many jobs this process runs at once; 0 makes it
	// insert-only: it records facts and their jobs, others run them.
	Workers int
	// ReconcileEvery is the reconciler's period (RECONCILE_INTERVAL).
	ReconcileEvery time.Duration
	// PollOnly makes River poll for new jobs instead of using LISTEN/NOTIFY,
	// which a transaction-mode connection pooler (PgBouncer) cannot carry.
	PollOnly bool
	// FetchPollInterval is how often River polls for jobs (default 1 s).
	FetchPollInterval time.Duration
	// ShutdownTimeout is how long running jobs get to finish on stop before
	// their contexts are cancelled and they are handed back.
	ShutdownTimeout time.Duration
	// RetryPolicy schedules retries; nil is Backoff.
	RetryPolicy river.ClientRetryPolicy
	// ClientID names this process among River's clients (default random).
	ClientID string
	Logger   *slog.Logger
	// TestOnly starts and stops faster (River's Config.TestOnly).
	TestOnly bool
}

// Jobs is billing's River client: it inserts jobs for the ledger
// (ledger.JobInserter) and, with workers, runs them.
type Jobs struct {
	client  *river.Client[pgx.Tx]
	workers *river.Workers
	cfg     JobsConfig
	stats   *jobStats
	// tallied closes when the outcomes of a started client's last events
	// are counted, after Stop.
	tallied chan struct{}
}

// NewJobs builds the River client on pool. Register billing's workers on it
// (Register) before inserting or starting.
func NewJobs(pool *pgxpool.Pool, cfg JobsConfig) (*Jobs, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// River narrates its routine (fetch counts, elections) at info; the
	// app logs each transfer attempt itself, so River's warnings and errors
	// are what the app's log needs from it.
	riverLog := slog.New(minLevel{cfg.Logger.Handler(), slog.LevelWarn})
	if cfg.RetryPolicy == nil {
		cfg.RetryPolicy = Backoff{}
	}
	j := &Jobs{workers: river.NewWorkers(), cfg: cfg, stats: newJobStats()}
	rc := &river.Config{
		ID:                   cfg.ClientID,
		Logger:               riverLog,
		Workers:              j.workers,
		PollOnly:             cfg.PollOnly,
		FetchPollInterval:    cfg.FetchPollInterval,
		JobTimeout:           TransferJobTimeout,
		RescueStuckJobsAfter: RescueStuckJobsAfter,
		RetryPolicy:          cfg.RetryPolicy,
		MaxAttempts:          TransferMaxAttempts,
		SoftStopTimeout:      cfg.ShutdownTimeout,
		TestOnly:             cfg.TestOnly,
	}
	if cfg.Workers > 0 {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		if rc.FetchPollInterval > 0 && rc.FetchPollInterval < river.FetchCooldownDefault {
			rc.FetchCooldown = rc.FetchPollInterval
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("billing: jobs: %w", err)
	}
	j.client = client
	return j, nil
}

// Client is the River client, for operators' tools and tests (JobList,
// JobRetry, JobCancel, Subscribe).
func (j *Jobs) Client() *river.Client[pgx.Tx] { return j.client }

// Runs reports whether this process works jobs (WORKERS > 0).
func (j *Jobs) Runs() bool { return j.cfg.Workers > 0 }

// Register adds billing's workers and, when this process runs jobs, the
// periodic reconciler. Call once, before Start and before any insert.
func (j *Jobs) Register(svc *Service) {
	s := svc.core
	river.AddWorker(j.workers, &transferWorker[ledger.PayoutJob]{s: s})
	river.AddWorker(j.workers, &transferWorker[ledger.RevenueShareJob]{s: s})
	river.AddWorker(j.workers, &reconcileWorker{s: s})
	river.AddWorker(j.workers, &grantExpiryWorker{s: s})
	if j.Runs() && j.cfg.ReconcileEvery > 0 {
		every := j.cfg.ReconcileEvery
		j.client.PeriodicJobs().Add(river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) {
				// One job per period, even across a change of leader (River
				// takes periods of a second or more); a run still going when
				// the next period comes makes that period's job a no-op
				// (ledger.ErrReconcilerRunning).
				return ReconcileJob{}, &river.InsertOpts{MaxAttempts: 1,
					UniqueOpts: river.UniqueOpts{ByPeriod: max(every, time.Second)}}
			}, &river.PeriodicJobOpts{ID: JobReconcile}))
	}
}

// transferInsertOpts are a transfer job's insert options: retried until
// Whop answers for good, unique by its arguments (a second insert for the
// same payout or share does nothing).
func transferInsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: TransferMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// InsertJobTx inserts a transfer job in the caller's transaction, to run at
// runAt (now when zero). With JobRow, it makes Jobs the ledger's
// JobInserter.
func (j *Jobs) InsertJobTx(ctx context.Context, tx pgx.Tx, args ledger.JobArgs, runAt time.Time) error {
	opts := transferInsertOpts()
	opts.ScheduledAt = runAt
	if _, err := j.client.InsertTx(ctx, tx, args, &opts); err != nil {
		return fmt.Errorf("billing: insert %s job: %w", args.Kind(), err)
	}
	return nil
}

// JobRow is the river_job row InsertJobTx writes for a transfer job to run
// now, for the ledger's settle statement to write itself.
func (j *Jobs) JobRow(args ledger.JobArgs) (ledger.JobRow, error) {
	return RiverJobRow(args, transferInsertOpts(), TransferMaxAttempts)
}

// Start runs jobs until ctx ends or Stop; a process with no workers does
// not start (it only inserts).
func (j *Jobs) Start(ctx context.Context) error {
	if !j.Runs() {
		return nil
	}
	events, cancel := j.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed, river.EventKindJobInterrupted)
	tallied := make(chan struct{})
	j.tallied = tallied
	go func() {
		defer close(tallied)
		for ev := range events { // River closes the channel when the client stops
			j.stats.record(ev)
		}
	}()
	if err := j.client.Start(ctx); err != nil {
		cancel()
		return fmt.Errorf("billing: start jobs: %w", err)
	}
	return nil
}

// Stop lets running jobs finish (up to ShutdownTimeout, then cancels
// them: River hands them back to be run again) and returns when done.
func (j *Jobs) Stop(ctx context.Context) error {
	if !j.Runs() {
		return nil
	}
	if err := j.client.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("billing: stop jobs: %w", err)
	}
	if j.tallied != nil {
		select {
		case <-j.tallied:
		case <-ctx.Done():
		}
	}
	return nil
}

// Backoff is the retry schedule: 2^attempt seconds, capped at an hour,
// with ±20 % jitter so jobs failed together do not retry together. About
// an hour and a quarter over the first 12 attempts, then hourly.
type Backoff struct {
	Now func() time.Time // nil: time.Now
}

// Delay is the wait after a job's attempt-th attempt failed, before jitter.
func (Backoff) Delay(attempt int) time.Duration {
	return min(time.Duration(1<<min(max(attempt, 1), 12))*time.Second, time.Hour)
}

// NextRetry is when a job that just failed its attempt runs again.
func (b Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	return now().Add(time.Duration(float64(b.Delay(job.Attempt)) * (0.8 + 0.4*rand.Float64())))
}

// minLevel passes on records at level or above.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
