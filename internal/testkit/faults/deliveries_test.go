//go:build faults

package faults

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// deliveryStats is what the sandbox's sender did with a storm, from its
// own log of every attempt.
type deliveryStats struct {
	Deliveries  int            // deliveries (a first attempt and its retries)
	Attempts    int            // attempts, retries included
	Retries     int            // attempts after the first
	Delivered   int            // deliveries that ended in a 2xx
	GaveUp      int            // deliveries the sender abandoned after its last retry
	GaveUpEvent map[string]int // event id -> deliveries of it that gave up
	OKEvent     map[string]bool
	Statuses    map[int]int // status of every attempt (0 = no answer)
}

// deliveryStatsOf sums the attempts made to url (the balancer), grouping
// each delivery's first attempt with its retries.
func deliveryStatsOf(attempts []whopsim.Attempt, url string) deliveryStats {
	st := deliveryStats{GaveUpEvent: map[string]int{}, OKEvent: map[string]bool{}, Statuses: map[int]int{}}
	last := map[int64]whopsim.Attempt{}
	for _, a := range attempts {
		if a.URL != url {
			continue // events recorded while the webhook was off
		}
		st.Attempts++
		st.Statuses[a.Status]++
		if a.Attempt > 1 {
			st.Retries++
		}
		if prev, ok := last[a.Delivery]; !ok || a.Attempt > prev.Attempt {
			last[a.Delivery] = a
		}
	}
	st.Deliveries = len(last)
	for _, a := range last {
		switch a.Outcome {
		case whopsim.OutcomeDelivered:
			st.Delivered++
			st.OKEvent[a.EventID] = true
		case whopsim.OutcomeGaveUp:
			st.GaveUp++
			st.GaveUpEvent[a.EventID]++
		}
	}
	return st
}

// final reports whether every delivery has ended, one way or the other.
func (d deliveryStats) final() bool { return d.Delivered+d.GaveUp == d.Deliveries }

// awaitDeliveries waits until want deliveries to the balancer have each
// ended (delivered, or given up after the last retry). WaitIdle is not
// enough: it does not wait for retries scheduled for later.
func (s *stack) awaitDeliveries(want int, timeout time.Duration) deliveryStats {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	for {
		st := deliveryStatsOf(s.sim.Deliveries(), s.hook)
		if st.Deliveries >= want && st.final() {
			return st
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("deliveries not settled after %v: %+v", timeout, st.summary())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// summary is the stats without the per-event maps, for messages.
func (d deliveryStats) summary() deliveryStats {
	d.GaveUpEvent, d.OKEvent = nil, nil
	return d
}
