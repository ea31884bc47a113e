package server

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/prometheus/client_golang/prometheus"
)

// Sources of the metrics that describe the whole app rather than one
// process. They are read at scrape time from the database, so every replica
// reports the same numbers and nothing has to be shared in memory.
type (
	// ReconcilerStats reports the reconciler's runs.
	ReconcilerStats interface {
		ReconcilerTotals(ctx context.Context) (billing.ReconcilerTotals, error)
	}
	// JobStats reports River's jobs, app-wide, from its table.
	JobStats interface {
		JobCounts(ctx context.Context) ([]billing.JobCounts, error)
	}
	// JobRuns reports what this process's River workers did.
	JobRuns interface {
		Outcomes() []billing.JobOutcome
	}
	// TokenStats reports this process's user-token verifier.
	TokenStats interface {
		Stats() whop.TokenStats
	}
)

var (
	reconcileRuns   = prometheus.NewDesc("creditkit_reconciler_runs_total", "Reconciler runs finished, by result.", []string{"result"}, nil)
	reconcileFixed  = prometheus.NewDesc("creditkit_reconciler_repairs_total", "Payments the reconciler repaired because no webhook had, by kind (credited, refunded, failed: a failed payment recorded on its purchase).", []string{"kind"}, nil)
	reconcileSeen   = prometheus.NewDesc("creditkit_reconciler_payments_seen_total", "Payments the reconciler read from Whop.", nil, nil)
	reconcileLastOK = prometheus.NewDesc("creditkit_reconciler_last_success_timestamp_seconds", "When the reconciler last finished without error (0: never).", nil, nil)
	jobsDesc        = prometheus.NewDesc("creditkit_jobs", "Background jobs in River's table, by kind and River state (available and scheduled: queued; running; retryable: failed, to run again; discarded: out of attempts; cancelled: refused for good; completed).", []string{"kind", "state"}, nil)
	jobsLagDesc     = prometheus.NewDesc("creditkit_jobs_oldest_due_seconds", "Age of the oldest job that is due and not yet running, by kind.", []string{"kind"}, nil)
	jobRunsDesc     = prometheus.NewDesc("creditkit_job_runs_total", "Job attempts this process's workers finished, by kind and outcome (completed, retried, discarded, cancelled, snoozed, interrupted).", []string{"kind", "outcome"}, nil)
	tokenWork       = prometheus.NewDesc("creditkit_user_token_verifications_total", "User tokens checked with ECDSA (cache misses).", nil, nil)
	tokenHits       = prometheus.NewDesc("creditkit_user_token_cache_hits_total", "User tokens answered from the verified-token cache, without ECDSA.", nil, nil)
	tokenJWKS       = prometheus.NewDesc("creditkit_user_token_jwks_fetches_total", "Requests made for Whop's signing keys.", nil, nil)
)

// jobStates are River's job states, each reported for every kind seen (0
// when none is in it), so a query on a state never finds its series missing.
var jobStates = []string{"available", "scheduled", "running", "retryable", "pending", "completed", "cancelled", "discarded"}

type appCollector struct {
	reconciler ReconcilerStats
	jobs       JobStats
	jobRuns    JobRuns
	tokens     TokenStats
}

func (c appCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{reconcileRuns, reconcileFixed, reconcileSeen, reconcileLastOK, jobsDesc, jobsLagDesc, jobRunsDesc, tokenWork, tokenHits, tokenJWKS} {
		ch <- d
	}
}

func (c appCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if c.reconciler != nil {
		if t, err := c.reconciler.ReconcilerTotals(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(reconcileRuns, prometheus.CounterValue, float64(t.Runs-t.Failed), "ok")
			ch <- prometheus.MustNewConstMetric(reconcileRuns, prometheus.CounterValue, float64(t.Failed), "error")
			ch <- prometheus.MustNewConstMetric(reconcileFixed, prometheus.CounterValue, float64(t.Credited), "credited")
			ch <- prometheus.MustNewConstMetric(reconcileFixed, prometheus.CounterValue, float64(t.Refunded), "refunded")
			ch <- prometheus.MustNewConstMetric(reconcileFixed, prometheus.CounterValue, float64(t.Failures), "failed")
			ch <- prometheus.MustNewConstMetric(reconcileSeen, prometheus.CounterValue, float64(t.PaymentsSeen))
			last := 0.0
			if !t.LastSuccess.IsZero() {
				last = float64(t.LastSuccess.Unix())
			}
			ch <- prometheus.MustNewConstMetric(reconcileLastOK, prometheus.GaugeValue, last)
		}
	}
	if c.jobs != nil {
		if counts, err := c.jobs.JobCounts(ctx); err == nil {
			for _, k := range counts {
				for _, state := range jobStates {
					ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(k.States[state]), k.Kind, state)
				}
				lag := 0.0
				if !k.OldestDue.IsZero() {
					lag = time.Since(k.OldestDue).Seconds()
				}
				ch <- prometheus.MustNewConstMetric(jobsLagDesc, prometheus.GaugeValue, lag, k.Kind)
			}
		}
	}
	if c.jobRuns != nil {
		for _, o := range c.jobRuns.Outcomes() {
			ch <- prometheus.MustNewConstMetric(jobRunsDesc, prometheus.CounterValue, float64(o.Count), o.Kind, o.Outcome)
		}
	}
	if c.tokens != nil {
		st := c.tokens.Stats()
		ch <- prometheus.MustNewConstMetric(tokenWork, prometheus.CounterValue, float64(st.Verifications))
		ch <- prometheus.MustNewConstMetric(tokenHits, prometheus.CounterValue, float64(st.CacheHits))
		ch <- prometheus.MustNewConstMetric(tokenJWKS, prometheus.CounterValue, float64(st.JWKSFetches))
	}
}
