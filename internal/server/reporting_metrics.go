package server

import (
	"github.com/creditkit/creditkit/internal/billing"
	"github.com/prometheus/client_golang/prometheus"
)

// ReportingStats reports where this process's reporting reads ran (the
// read replica or the primary) and how far behind the replica was.
type ReportingStats interface {
	Stats() billing.ReportingStats
}

var (
	reportReads     = prometheus.NewDesc("creditkit_reporting_reads_total", "Reporting reads (dashboards, the owner's overview, payment look-ups) this process ran, by the server that answered: replica or primary.", []string{"served_by"}, nil)
	reportFallbacks = prometheus.NewDesc("creditkit_reporting_fallbacks_total", "Reporting reads meant for the read replica that the primary answered because the replica did not.", nil, nil)
	replicaUp       = prometheus.NewDesc("creditkit_replica_up", "Whether the read replica answers: 1, or 0 while reports read the primary instead (only with DATABASE_REPLICA_URL).", nil, nil)
	replicaLag      = prometheus.NewDesc("creditkit_replica_lag_seconds", "How far the read replica was behind the primary at its last read (0 when it had replayed everything it received).", nil, nil)
)

// reportingCollector exports a ReportingStats at scrape time.
type reportingCollector struct{ src ReportingStats }

func (reportingCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{reportReads, reportFallbacks, replicaUp, replicaLag} {
		ch <- d
	}
}

func (c reportingCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	ch <- prometheus.MustNewConstMetric(reportReads, prometheus.CounterValue, float64(st.ServedReplica), string(billing.ReadReplica))
	ch <- prometheus.MustNewConstMetric(reportReads, prometheus.CounterValue, float64(st.ServedPrimary), string(billing.ReadPrimary))
	ch <- prometheus.MustNewConstMetric(reportFallbacks, prometheus.CounterValue, float64(st.Fallbacks))
	if !st.ReplicaConfigured {
		return
	}
	up := 1.0
	if st.ReplicaDown {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(replicaUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(replicaLag, prometheus.GaugeValue, st.Lag.Seconds())
}
