package whopsim

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// The delivery log and how tests wait on it.

// Attempt is one webhook delivery attempt, as the control API lists them.
type Attempt struct {
	// Seq orders every attempt the sandbox made, across deliveries, so a
	// watcher can ask for what came after the last one it saw.
	Seq int64 `json:"seq"`
	// Delivery groups the attempts of one delivery (the first send and its
	// retries); a redelivery of the same event starts a new one.
	Delivery int64      `json:"delivery"`
	EventID  string     `json:"event_id"`
	Type     string     `json:"type"`
	Attempt  int        `json:"attempt"`
	At       time.Time  `json:"at"`
	Status   int        `json:"status"`
	Error    string     `json:"error,omitempty"`
	Outcome  string     `json:"outcome"` // delivered | retrying | gave_up | dropped | no_endpoint
	NextAt   *time.Time `json:"next_attempt_at,omitempty"`
	Scheme   Scheme     `json:"scheme"`
	URL      string     `json:"url"`
	// Endpoint is the listener endpoint the delivery went to, or "" for
	// the app's webhook URL.
	Endpoint  string   `json:"endpoint,omitempty"`
	Faults    []string `json:"faults,omitempty"`
	ElapsedMS int64    `json:"elapsed_ms"`
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

// Resent is a delivery started again by Resend.
type Resent struct {
	Delivery int64  `json:"delivery"`
	EventID  string `json:"event_id"`
	Type     string `json:"type"`
	Endpoint string `json:"endpoint,omitempty"`
	URL      string `json:"url"`
}

// Resend delivers again what delivery delivered, to the same endpoint, as
// a new delivery with its own retries. The event keeps its webhook-id, as
// Whop's replay does, so a receiver must treat it as the repeat it is;
// with newID it goes out as a new event (new id, new timestamp, same data),
// which a receiver will process as if it were the first.
func (s *Sim) Resend(delivery int64, newID bool) (Resent, error) {
	var last *Attempt
	s.mu.Lock()
	for i := len(s.st.Attempts) - 1; i >= 0; i-- {
		if s.st.Attempts[i].Delivery == delivery {
			last = &s.st.Attempts[i]
			break
		}
	}
	var ev *Event
	var ep, url string
	if last != nil {
		ep = last.Endpoint
		url, _, _ = s.targetLocked(ep)
		for _, e := range s.st.Events {
			if e.ID == last.EventID {
				ev = e
			}
		}
	}
	s.mu.Unlock()
	switch {
	case last == nil:
		return Resent{}, notFound("delivery", formatSeq(delivery))
	case ev == nil:
		return Resent{}, notFound("event", last.EventID)
	case ep != "" && url == "":
		return Resent{}, &APIError{Status: 410, Code: "endpoint_gone",
			Message: "delivery " + formatSeq(delivery) + " went to a listener that has stopped (" + last.URL + ")"}
	}
	if newID {
		var err error
		if ev, err = s.reissue(ev); err != nil {
			return Resent{}, err
		}
	}
	n := s.send.pushTo(ev, ep, false)
	return Resent{Delivery: n, EventID: ev.ID, Type: ev.Type, Endpoint: ep, URL: url}, nil
}

// reissue records a copy of ev with a new id and timestamp.
func (s *Sim) reissue(ev *Event) (*Event, error) {
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(ev.Body))
	dec.UseNumber() // amounts go out again as they were written
	if err := dec.Decode(&body); err != nil {
		return nil, err
	}
	cp := &Event{ID: s.ids.id("msg"), Type: ev.Type, CompanyID: ev.CompanyID, CreatedAt: s.clock.Now(), Legacy: ev.Legacy}
	body["id"], body["timestamp"] = cp.ID, iso(cp.CreatedAt)
	cp.Body = mustJSON(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Events = append(s.st.Events, cp)
	s.persistLocked()
	return cp, nil
}

func formatSeq(n int64) string { return strconv.FormatInt(n, 10) }
