package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Reporting is where the reads people only look at go: dashboard reports,
// the owner's overview, exports, a payment look-up's rows. With a read
// replica configured they run there, so a busy dashboard costs the primary
// nothing; when the replica does not answer they run on the primary, and
// the replica is tried again a few seconds later.
//
// Nothing that decides money reads through Reporting: fulfilment, spends,
// payouts, refunds and the reconciler read and write the primary, whose rows
// are the ones locked and current. A reporting read may be as old as the
// replica is behind, which Read reports so the page can say so.
type Reporting struct {
	primary *Store
	replica *Store // nil: every read runs on the primary
	now     func() time.Time
	log     *slog.Logger
	// retry is how long a replica that failed is left alone.
	retry time.Duration

	mu        sync.Mutex
	downUntil time.Time

	servedReplica, servedPrimary, fallbacks atomic.Int64
	lagNanos                                atomic.Int64
}

// Source is where a reporting read ran.
type Source string

// The two sources.
const (
	SourceReplica Source = "replica"
	SourcePrimary Source = "primary"
)

// Served says where a read ran and how stale it may be.
type Served struct {
	Source Source
	// Lag is how far the replica was behind the primary when the read ran
	// (0 on the primary, or on a replica that had replayed all it received).
	Lag time.Duration
	// Fallback is set when a replica is configured but the read ran on the
	// primary because the replica did not answer.
	Fallback bool
}

// ReportingStats are Reporting's counters since the process started.
type ReportingStats struct {
	ReplicaConfigured bool
	ServedReplica     int64 // reads the replica answered
	ServedPrimary     int64 // reads the primary answered, fallbacks included
	Fallbacks         int64 // reads meant for the replica that the primary answered
	// ReplicaDown is set while the replica is left alone after a failure.
	ReplicaDown bool
	// Lag is the replica's lag as last measured.
	Lag time.Duration
}

// ReportingOption adjusts a Reporting.
type ReportingOption func(*Reporting)

// WithReportingClock replaces time.Now, which measures the replica's lag
// against the time of the last transaction it replayed.
func WithReportingClock(now func() time.Time) ReportingOption {
	return func(r *Reporting) { r.now = now }
}

// WithReportingLogger logs the replica going down and coming back.
func WithReportingLogger(l *slog.Logger) ReportingOption {
	return func(r *Reporting) { r.log = l }
}

// WithReplicaRetry sets how long a failed replica is left alone (default 5 s).
func WithReplicaRetry(d time.Duration) ReportingOption {
	return func(r *Reporting) { r.retry = d }
}

// NewReporting routes reporting reads to replica, or to primary when
// replica is nil or down.
func NewReporting(primary, replica *Store, opts ...ReportingOption) *Reporting {
	r := &Reporting{primary: primary, replica: replica, now: time.Now, log: slog.New(slog.DiscardHandler), retry: 5 * time.Second}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Read runs read against the replica, or against the primary when there
// is none or it does not answer (read then runs a second time, from the
// start: it must only read, and set its results afresh). An error of the
// caller's own context is returned as it is, never retried elsewhere.
func (r *Reporting) Read(ctx context.Context, read func(*Store) error) (Served, error) {
	if r.replica == nil {
		r.servedPrimary.Add(1)
		return Served{Source: SourcePrimary}, read(r.primary)
	}
	if r.replicaResting() {
		return r.fallBack(ctx, read)
	}
	lag, err := r.replica.ReplicaLag(ctx, r.now())
	if err == nil {
		err = read(r.replica)
	}
	if err == nil {
		r.servedReplica.Add(1)
		r.lagNanos.Store(int64(lag))
		r.replicaUp()
		return Served{Source: SourceReplica, Lag: lag}, nil
	}
	if ctx.Err() != nil {
		return Served{Source: SourceReplica}, err
	}
	r.replicaFailed(err)
	return r.fallBack(ctx, read)
}

func (r *Reporting) fallBack(ctx context.Context, read func(*Store) error) (Served, error) {
	r.servedPrimary.Add(1)
	r.fallbacks.Add(1)
	return Served{Source: SourcePrimary, Fallback: true}, read(r.primary)
}

func (r *Reporting) replicaResting() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now().Before(r.downUntil)
}

// replicaFailed leaves the replica alone for a while, so each page load
// does not wait on it (a dead host costs a connect timeout per try).
func (r *Reporting) replicaFailed(err error) {
	r.mu.Lock()
	wasUp := r.downUntil.IsZero()
	r.downUntil = r.now().Add(r.retry)
	r.mu.Unlock()
	if wasUp {
		r.log.Warn("read replica unavailable: reports read the primary until it answers",
			slog.String("error", err.Error()), slog.Duration("retry_in", r.retry))
	}
}

func (r *Reporting) replicaUp() {
	r.mu.Lock()
	wasDown := !r.downUntil.IsZero()
	r.downUntil = time.Time{}
	r.mu.Unlock()
	if wasDown {
		r.log.Info("read replica answers again: reports read it")
	}
}

// Stats returns the counters.
func (r *Reporting) Stats() ReportingStats {
	r.mu.Lock()
	down := !r.downUntil.IsZero()
	r.mu.Unlock()
	return ReportingStats{ReplicaConfigured: r.replica != nil, ServedReplica: r.servedReplica.Load(),
		ServedPrimary: r.servedPrimary.Load(), Fallbacks: r.fallbacks.Load(), ReplicaDown: down,
		Lag: time.Duration(r.lagNanos.Load())}
}

// ReplicaLag measures how far this store's server, a streaming standby,
// is behind: nothing when it has replayed all the WAL it received, else
// the time since the last transaction it replayed committed on the
// primary. A standby whose primary has been quiet shows no lag, since
// there is nothing to replay; a server not in recovery (a logical
// replica, a copy) has no lag to measure and is read all the same.
func (s *Store) ReplicaLag(ctx context.Context, now time.Time) (time.Duration, error) {
	var inRecovery, caughtUp bool
	var replayed *time.Time
	err := s.pool.QueryRow(ctx, `SELECT pg_is_in_recovery(),
		COALESCE(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true),
		pg_last_xact_replay_timestamp()`).Scan(&inRecovery, &caughtUp, &replayed)
	switch {
	case err != nil:
		return 0, fmt.Errorf("ledger: replica lag: %w", err)
	case !inRecovery, caughtUp, replayed == nil:
		return 0, nil
	}
	return max(now.Sub(*replayed), 0), nil
}
