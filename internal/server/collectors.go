package server

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/queue"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/prometheus/client_golang/prometheus"
)

// Sources of the metrics that describe the whole app rather than one
// process. They are read at scrape time from the database, so every replica
// reports the same numbers and nothing has to be shared in memory.
type (
	// ReconcilerStats reports the reconciler's runs.
	ReconcilerStats interface {
		ReconcilerTotals(ctx context.Context) (ledger.ReconcilerTotals, error)
	}
	// JobStats reports the background queue.
	JobStats interface {
		Counts(ctx context.Context) ([]queue.Counts, error)
	}
	// TokenStats reports this process's user-token verifier.
	TokenStats interface {
		Stats() whop.TokenStats
	}
)

var (
	reconcileRuns   = prometheus.NewDesc("creditkit_reconciler_runs_total", "Reconciler runs finished, by result.", []string{"result"}, nil)
	reconcileFixed  = prometheus.NewDesc("creditkit_reconciler_repairs_total", "Payments the reconciler repaired because no webhook had, by kind.", []string{"kind"}, nil)
	reconcileSeen   = prometheus.NewDesc("creditkit_reconciler_payments_seen_total", "Payments the reconciler read from Whop.", nil, nil)
	reconcileLastOK = prometheus.NewDesc("creditkit_reconciler_last_success_timestamp_seconds", "When the reconciler last finished without error (0: never).", nil, nil)
	jobsDesc        = prometheus.NewDesc("creditkit_jobs", "Background jobs, by kind and state.", []string{"kind", "state"}, nil)
	jobsLagDesc     = prometheus.NewDesc("creditkit_jobs_oldest_due_seconds", "Age of the oldest job that is due and not yet done, by kind.", []string{"kind"}, nil)
	tokenWork       = prometheus.NewDesc("creditkit_user_token_verifications_total", "User tokens checked with ECDSA (cache misses).", nil, nil)
	tokenHits       = prometheus.NewDesc("creditkit_user_token_cache_hits_total", "User tokens answered from the verified-token cache, without ECDSA.", nil, nil)
	tokenJWKS       = prometheus.NewDesc("creditkit_user_token_jwks_fetches_total", "Requests made for Whop's signing keys.", nil, nil)
)

type appCollector struct {
	reconciler ReconcilerStats
	jobs       JobStats
	tokens     TokenStats
}

func (c appCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{reconcileRuns, reconcileFixed, reconcileSeen, reconcileLastOK, jobsDesc, jobsLagDesc, tokenWork, tokenHits, tokenJWKS} {
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
			ch <- prometheus.MustNewConstMetric(reconcileSeen, prometheus.CounterValue, float64(t.PaymentsSeen))
			last := 0.0
			if !t.LastSuccess.IsZero() {
				last = float64(t.LastSuccess.Unix())
			}
			ch <- prometheus.MustNewConstMetric(reconcileLastOK, prometheus.GaugeValue, last)
		}
	}
	if c.jobs != nil {
		if counts, err := c.jobs.Counts(ctx); err == nil {
			for _, k := range counts {
				ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(k.Available), k.Kind, "available")
				ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(k.Completed), k.Kind, "completed")
				ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(k.Discarded), k.Kind, "discarded")
				lag := 0.0
				if !k.OldestDue.IsZero() {
					lag = time.Since(k.OldestDue).Seconds()
				}
				ch <- prometheus.MustNewConstMetric(jobsLagDesc, prometheus.GaugeValue, lag, k.Kind)
			}
		}
	}
	if c.tokens != nil {
		st := c.tokens.Stats()
		ch <- prometheus.MustNewConstMetric(tokenWork, prometheus.CounterValue, float64(st.Verifications))
		ch <- prometheus.MustNewConstMetric(tokenHits, prometheus.CounterValue, float64(st.CacheHits))
		ch <- prometheus.MustNewConstMetric(tokenJWKS, prometheus.CounterValue, float64(st.JWKSFetches))
	}
}
