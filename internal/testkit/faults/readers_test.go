//go:build faults

package faults

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
)

// connSampler is the primary's side of the connections, sampled.
type connSampler struct {
	maxPooled, maxDirect, maxBouncer, samples atomic.Int64
	stop, done                                chan struct{}
}

// sampleConnections counts, on the primary, the client connections to the
// app's database: the replicas' direct ones by their name, and the rest,
// but the auditor's own, which can only be PgBouncer's; and asks PgBouncer
// how many server connections it holds.
func (s *stack) sampleConnections(tp *pooledTopology, every time.Duration) *connSampler {
	c := &connSampler{stop: make(chan struct{}), done: make(chan struct{})}
	raise := func(v *atomic.Int64, n int64) {
		if n > v.Load() {
			v.Store(n)
		}
	}
	go func() {
		defer close(c.done)
		for {
			var pooled, direct int64
			err := s.pool.QueryRow(s.ctx, `SELECT count(*) FILTER (WHERE application_name NOT IN ($2, $3)),
				count(*) FILTER (WHERE application_name = $3)
				FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`,
				tp.db, auditorName, directName).Scan(&pooled, &direct)
			if err == nil {
				c.samples.Add(1)
				raise(&c.maxPooled, pooled)
				raise(&c.maxDirect, direct)
			}
			if n, err := tp.pooler.ServerConnections(s.ctx); err == nil {
				raise(&c.maxBouncer, int64(n))
			}
			select {
			case <-c.stop:
				return
			case <-time.After(every):
			}
		}
	}()
	return c
}

func (c *connSampler) finish() {
	close(c.stop)
	<-c.done
}

// dashReader is an admin reloading a company's dashboard.
type dashReader struct {
	loads, ok, afterKill, afterKillOK atomic.Int64
	killed                            atomic.Bool
	stop, done                        chan struct{}
}

// readDashboards loads company's dashboard page as its admin every
// dashboardInterval, round the replicas, until finish.
func (s *stack) readDashboards(admin, company string) *dashReader {
	d := &dashReader{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		for i := 0; ; i++ {
			after := d.killed.Load()
			req, _ := http.NewRequestWithContext(s.ctx, http.MethodGet, s.reps[i%len(s.reps)].url()+"/dashboard/"+company, nil)
			req.Header.Set(whop.HeaderUserToken, s.token(admin))
			res, err := s.client.Do(req)
			ok := err == nil && res.StatusCode == http.StatusOK
			if err == nil {
				res.Body.Close()
			}
			d.loads.Add(1)
			if after {
				d.afterKill.Add(1)
			}
			if ok {
				d.ok.Add(1)
				if after {
					d.afterKillOK.Add(1)
				}
			}
			select {
			case <-d.stop:
				return
			case <-time.After(dashboardInterval):
			}
		}
	}()
	return d
}

func (d *dashReader) finish() {
	close(d.stop)
	<-d.done
}

// dashboardView is what a replica's JSON dashboard said.
type dashboardView struct {
	servedBy     string
	sales, gross int64
}

// dashboardViews asks every replica for company's dashboard as JSON.
func (s *stack) dashboardViews(admin, company string) []dashboardView {
	s.t.Helper()
	var out []dashboardView
	for _, r := range s.reps {
		code, _, raw := s.call(r, "GET", "/api/dashboard/"+company, admin, nil)
		var body struct {
			Totals struct {
				Sales int64 `json:"sales"`
				Gross int64 `json:"taken"`
			} `json:"totals"`
			Reports struct {
				ServedBy string `json:"served_by"`
			} `json:"reports"`
		}
		if err := json.Unmarshal([]byte(raw), &body); code != 200 || err != nil {
			s.t.Errorf("%s: dashboard JSON %d %v", r.name, code, err)
		}
		out = append(out, dashboardView{servedBy: body.Reports.ServedBy, sales: body.Totals.Sales, gross: body.Totals.Gross})
	}
	return out
}

// reportingTotals are every replica's reporting counters, summed.
type reportingTotals struct {
	replica, primary, fallbacks int64
	down                        int // replicas reporting creditkit_replica_up 0
	maxLag                      float64
}

var (
	// Anchored at a line's start: a HELP line names the series too.
	reReadsReplica = regexp.MustCompile(`(?m)^creditkit_reporting_reads_total\{served_by="replica"\} (\d+)`)
	reReadsPrimary = regexp.MustCompile(`(?m)^creditkit_reporting_reads_total\{served_by="primary"\} (\d+)`)
	reFallbacks    = regexp.MustCompile(`(?m)^creditkit_reporting_fallbacks_total (\d+)`)
	reReplicaUp    = regexp.MustCompile(`(?m)^creditkit_replica_up (\d+)`)
	reReplicaLag   = regexp.MustCompile(`(?m)^creditkit_replica_lag_seconds (\S+)`)
)

func (s *stack) reportingTotals() reportingTotals {
	var t reportingTotals
	n := func(re *regexp.Regexp, scrape string) int64 {
		v, _ := strconv.ParseInt(metricValue(re, scrape), 10, 64)
		return v
	}
	for _, r := range s.reps {
		m := s.scrape(r)
		t.replica += n(reReadsReplica, m)
		t.primary += n(reReadsPrimary, m)
		t.fallbacks += n(reFallbacks, m)
		if metricValue(reReplicaUp, m) == "0" {
			t.down++
		}
		lag, _ := strconv.ParseFloat(metricValue(reReplicaLag, m), 64)
		t.maxLag = max(t.maxLag, lag)
	}
	return t
}
