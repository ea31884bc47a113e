package whopsim

import (
	"encoding/json"
	"slices"
)

// Event types the sandbox sends, with their legacy (v5) action names.
var legacyActions = map[string]string{
	"payment.succeeded":    "payment.succeeded",
	"payment.failed":       "payment.failed",
	"payment.pending":      "payment.pending",
	"refund.created":       "refund.created",
	"refund.updated":       "refund.updated",
	"dispute.created":      "dispute.created",
	"dispute.updated":      "dispute.updated",
	"membership.activated": "membership.went_valid",
	// Legacy endpoints call an ended membership "went invalid".
	"membership.deactivated":                  "membership.went_invalid",
	"membership.cancel_at_period_end_changed": "membership.cancel_at_period_end_changed",
}

// newEvent records an event with both envelopes; call it inside update.
// The v1 body is the Standard Webhooks envelope, the legacy body the v5 one.
func (s *Sim) newEvent(st *State, typ, companyID string, data, legacyData any) *Event {
	ev := &Event{ID: s.ids.id("msg"), Type: typ, CompanyID: companyID, CreatedAt: s.clock.Now()}
	ev.Body = mustJSON(obj{"id": ev.ID, "api_version": "v1", "type": typ,
		"timestamp": iso(ev.CreatedAt), "company_id": companyID, "data": data})
	ev.Legacy = mustJSON(obj{"action": legacyActions[typ], "api_version": "v5",
		"company": orNil(companyID), "data": legacyData})
	st.Events = append(st.Events, ev)
	return ev
}

// mustJSON encodes values built here from maps and strings, which cannot
// fail to encode.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("whopsim: encoding event: " + err.Error())
	}
	return b
}

// Events returns every event so far, oldest first.
func (s *Sim) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.st.Events))
	for i, ev := range s.st.Events {
		out[i] = *ev
	}
	return out
}

// SetWebhook points deliveries at url, signed per scheme; an empty url
// stops sending (events are still recorded).
func (s *Sim) SetWebhook(url string, scheme Scheme) error {
	if scheme != Standard && scheme != Legacy {
		return badRequest("webhook scheme %q: want %q or %q", scheme, Standard, Legacy)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.WebhookURL, s.opts.WebhookScheme = url, scheme
	return nil
}

// Webhook returns where deliveries go and how they are signed.
func (s *Sim) Webhook() (url string, scheme Scheme) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.WebhookURL, s.opts.WebhookScheme
}

// findEvents returns the events with the given ids, in the order given.
func (s *Sim) findEvents(ids []string) ([]*Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Event, 0, len(ids))
	for _, id := range ids {
		i := slices.IndexFunc(s.st.Events, func(ev *Event) bool { return ev.ID == id })
		if i < 0 {
			return nil, notFound("event", id)
		}
		out = append(out, s.st.Events[i])
	}
	return out, nil
}

// Redeliver sends an event again, times times (a new delivery each, with
// the same webhook-id), as Whop's "resend" and its duplicates do.
func (s *Sim) Redeliver(eventID string, times int) error {
	evs, err := s.findEvents([]string{eventID})
	if err != nil {
		return err
	}
	for range max(times, 1) {
		s.send.push(evs[0], false)
	}
	return nil
}

// Deliver sends a set of existing events again, in the order given or
// shuffled, to test a receiver that must not depend on order.
func (s *Sim) Deliver(eventIDs []string, shuffle bool) error {
	evs, err := s.findEvents(eventIDs)
	if err != nil {
		return err
	}
	if shuffle {
		s.ids.shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	}
	for _, ev := range evs {
		s.send.push(ev, false)
	}
	return nil
}

// ReleaseHeld delivers the events held by Faults.HoldNext now, shuffled or
// in order, and returns how many there were.
func (s *Sim) ReleaseHeld(shuffle bool) int { return s.send.releaseHeld(shuffle) }

// nextSeq returns the next number of the state's sequence, used to order
// records created in the same instant and to number deliveries.
func (s *Sim) nextSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Seq++
	return s.st.Seq
}
