package whopsim

import (
	"context"
	"slices"
	"time"
)

// The delivery log and how tests wait on it.

// Attempt is one webhook delivery attempt, as the control API lists them.
type Attempt struct {
	// Delivery groups the attempts of one delivery (the first send and its
	// retries); a redelivery of the same event starts a new one.
	Delivery  int64      `json:"delivery"`
	EventID   string     `json:"event_id"`
	Type      string     `json:"type"`
	Attempt   int        `json:"attempt"`
	At        time.Time  `json:"at"`
	Status    int        `json:"status"`
	Error     string     `json:"error,omitempty"`
	Outcome   string     `json:"outcome"` // delivered | retrying | gave_up | dropped | no_endpoint
	NextAt    *time.Time `json:"next_attempt_at,omitempty"`
	Scheme    Scheme     `json:"scheme"`
	URL       string     `json:"url"`
	Faults    []string   `json:"faults,omitempty"`
	ElapsedMS int64      `json:"elapsed_ms"`
}

// Attempt outcomes.
const (
	OutcomeDelivered  = "delivered"
	OutcomeRetrying   = "retrying"
	OutcomeGaveUp     = "gave_up"
	OutcomeDropped    = "dropped"
	OutcomeNoEndpoint = "no_endpoint"
)

// Deliveries returns every delivery attempt so far, oldest first.
func (s *Sim) Deliveries() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.Attempts)
}

// WaitIdle blocks until no delivery attempt is queued or running. Retries
// scheduled for later do not count: with a ManualClock, Advance past them
// first. It returns ctx's error if ctx ends first.
func (s *Sim) WaitIdle(ctx context.Context) error {
	return s.send.wait(ctx, func() bool {
		s.send.mu.Lock()
		defer s.send.mu.Unlock()
		return s.send.busy == 0
	})
}

// AwaitAttempts blocks until at least n delivery attempts have been made,
// then returns them all.
func (s *Sim) AwaitAttempts(ctx context.Context, n int) ([]Attempt, error) {
	err := s.send.wait(ctx, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.st.Attempts) >= n
	})
	return s.Deliveries(), err
}

// wait re-checks cond after every change until it holds. It takes the
// change channel before checking, so a change in between is not missed, and
// checks without holding d.mu, since cond may take the Sim's lock.
func (d *sender) wait(ctx context.Context, cond func() bool) error {
	for {
		d.mu.Lock()
		ch := d.changed
		d.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
