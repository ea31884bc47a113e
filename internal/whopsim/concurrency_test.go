package whopsim_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestConcurrentDeliveryAndLogBound: with WebhookConcurrency 4, four
// attempts are in flight at once and never more (the receiver holds each
// until four have arrived); KeepAttempts keeps only the newest attempts.
func TestConcurrentDeliveryAndLogBound(t *testing.T) {
	const workers, events = 4, 8
	var (
		mu       sync.Mutex
		inFlight int
		most     int
		full     = make(chan struct{})
		once     sync.Once
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == workers {
			once.Do(func() { close(full) })
		}
		mu.Unlock()
		select {
		case <-full:
		case <-time.After(2 * time.Second): // fewer workers than asked: let the test fail, not hang
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)

	b := setup(t, func(o *whopsim.Options) {
		o.WebhookURL = hook.URL
		o.WebhookConcurrency = workers
		o.KeepAttempts = 5
	})
	// Hold every event so all eight are queued at once when the last arrives.
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = events })
	for range events {
		b.buy("1", nil)
	}
	b.idle()

	mu.Lock()
	defer mu.Unlock()
	if most != workers {
		t.Errorf("at most %d attempts were in flight at once, want exactly %d", most, workers)
	}
	got := b.Sim.Deliveries()
	if len(got) != 5 {
		t.Fatalf("the log keeps %d attempts, want the newest 5", len(got))
	}
	seen := map[int64]bool{}
	for _, a := range got {
		if a.Outcome != whopsim.OutcomeDelivered || a.Status != http.StatusOK || seen[a.Delivery] {
			t.Errorf("attempt %+v: want five distinct delivered deliveries", a)
		}
		seen[a.Delivery] = true
	}
}
