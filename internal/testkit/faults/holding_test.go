//go:build faults

package faults

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"time"
)

// holding is what the sampler saw: how long anything of ours was held.
type holding struct {
	samples     int
	maxIdleInTx float64 // seconds a session sat idle inside a transaction
	maxTxAge    float64 // seconds the oldest open transaction had run
	maxSessions int64
	maxAcquired [2]int64 // connections in use in each replica's pool
	maxConns    [2]int64
	waited      float64 // seconds acquires waited for a connection, both replicas

	stopCh      chan struct{}
	done        chan struct{}
	start, last [2]float64
}

var (
	reAcquired = regexp.MustCompile(`creditkit_db_pool_connections\{state="acquired"\} (\d+)`)
	reMaxConns = regexp.MustCompile(`creditkit_db_pool_max_connections (\d+)`)
	reWaited   = regexp.MustCompile(`creditkit_db_pool_acquire_wait_seconds_total (\S+)`)
)

// sampleHolding samples pg_stat_activity and both replicas' pool metrics
// every interval until stop.
func (s *stack) sampleHolding(every time.Duration) *holding {
	h := &holding{stopCh: make(chan struct{}), done: make(chan struct{})}
	for i, r := range s.replicas() {
		h.start[i], _ = strconv.ParseFloat(metricValue(reWaited, s.scrape(r)), 64)
		h.last[i] = h.start[i]
	}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			h.sample(s)
			select {
			case <-h.stopCh:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *holding) sample(s *stack) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	var idle, age float64
	var sessions int64
	err := s.pool.QueryRow(ctx, `SELECT
		COALESCE(max(EXTRACT(epoch FROM now() - state_change)) FILTER (WHERE state LIKE 'idle in transaction%'), 0),
		COALESCE(max(EXTRACT(epoch FROM now() - xact_start)) FILTER (WHERE pid <> pg_backend_pid()), 0),
		count(*)
		FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`).
		Scan(&idle, &age, &sessions)
	if err != nil {
		return
	}
	h.samples++
	h.maxIdleInTx, h.maxTxAge, h.maxSessions = max(h.maxIdleInTx, idle), max(h.maxTxAge, age), max(h.maxSessions, sessions)
	for i, r := range s.replicas() {
		m := s.scrape(r)
		acquired, _ := strconv.ParseInt(metricValue(reAcquired, m), 10, 64)
		conns, _ := strconv.ParseInt(metricValue(reMaxConns, m), 10, 64)
		h.maxAcquired[i], h.maxConns[i] = max(h.maxAcquired[i], acquired), max(h.maxConns[i], conns)
		if w, err := strconv.ParseFloat(metricValue(reWaited, m), 64); err == nil {
			h.last[i] = max(h.last[i], w)
		}
	}
	h.waited = h.last[0] - h.start[0] + h.last[1] - h.start[1]
}

func (h *holding) stop() holding {
	close(h.stopCh)
	<-h.done
	return *h
}

// scrape reads a replica's /metrics ("" if it does not answer).
func (s *stack) scrape(r *replica) string {
	res, err := s.client.Get(r.url() + "/metrics")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// jobRuns sums both replicas' River job outcomes from /metrics, by kind
// and outcome (completed, retried, cancelled...).
func (s *stack) jobRuns() map[string]int64 {
	re := regexp.MustCompile(`creditkit_job_runs_total\{kind="([^"]+)",outcome="([^"]+)"\} (\d+)`)
	out := map[string]int64{}
	for _, r := range s.replicas() {
		for _, m := range re.FindAllStringSubmatch(s.scrape(r), -1) {
			n, _ := strconv.ParseInt(m[3], 10, 64)
			out[m[1]+"/"+m[2]] += n
		}
	}
	return out
}
