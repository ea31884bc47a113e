package whopsim

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Listener endpoints: besides the app's webhook URL, `whopsim listen`
// forwards every new event to URLs of its choosing, each signed with its
// own secret, for as long as it listens. They are not saved: a listener
// that goes away takes its endpoints with it.

// Endpoint is a URL a listener asked the sandbox to deliver to.
type Endpoint struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Scheme Scheme `json:"scheme"`
	// Secret signs the deliveries, as a webhook's secret on Whop does.
	Secret string `json:"secret"`
	// Events limits the types delivered ("refund.created", or "refund.*"
	// for all of a kind); empty means every type.
	Events    []string  `json:"events,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// wants reports whether the endpoint takes events of type typ.
func (e *Endpoint) wants(typ string) bool {
	if len(e.Events) == 0 {
		return true
	}
	return slices.ContainsFunc(e.Events, func(p string) bool {
		prefix, wild := strings.CutSuffix(p, "*")
		return p == typ || (wild && strings.HasPrefix(typ, prefix))
	})
}

// AddEndpoint starts delivering new events to e.URL. An empty Scheme is
// Standard; an empty Secret is the app's webhook secret, so an app set up
// from `whopsim env` verifies the deliveries as they are.
func (s *Sim) AddEndpoint(e Endpoint) (Endpoint, error) {
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Endpoint{}, badRequest("forward URL %q: want an absolute http(s) URL such as http://localhost:3000/api/webhook", e.URL)
	}
	if e.Scheme == "" {
		e.Scheme = Standard
	}
	if e.Scheme != Standard && e.Scheme != Legacy {
		return Endpoint{}, badRequest("webhook scheme %q: want %q or %q", e.Scheme, Standard, Legacy)
	}
	e.ID, e.CreatedAt = s.ids.id("we"), s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Secret == "" {
		e.Secret = s.st.App.WebhookSecret
	}
	s.endpoints[e.ID] = &e
	return e, nil
}

// NewWebhookSecret returns a fresh secret in Whop's form (ws_ and 64 hex
// digits), for an endpoint that should not share the app's.
func (s *Sim) NewWebhookSecret() string { return "ws_" + s.ids.hex(32) }

// RemoveEndpoint stops delivering to an endpoint; attempts already queued
// for it are recorded as having no endpoint.
func (s *Sim) RemoveEndpoint(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.endpoints, id)
}

// Endpoints returns the listeners' endpoints, oldest first.
func (s *Sim) Endpoints() []Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Endpoint, 0, len(s.endpoints))
	for _, e := range s.endpoints {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// targetsLocked lists the endpoints a new event of type typ goes to: the app's
// webhook URL ("", always, so an event with no URL set is still recorded
// as not sent) and each listener's that wants it.
func (s *Sim) targetsLocked(typ string) []string {
	out := []string{""}
	for id, e := range s.endpoints {
		if e.wants(typ) {
			out = append(out, id)
		}
	}
	slices.Sort(out[1:])
	return out
}

// targetLocked resolves an endpoint id to where and how to deliver; a
// listener's endpoint that is gone resolves to no URL.
func (s *Sim) targetLocked(id string) (url string, scheme Scheme, secret string) {
	if id == "" {
		return s.opts.WebhookURL, s.opts.WebhookScheme, s.st.App.WebhookSecret
	}
	if e := s.endpoints[id]; e != nil {
		return e.URL, e.Scheme, e.Secret
	}
	return "", s.opts.WebhookScheme, ""
}

// AttemptsAfter returns the attempts recorded after seq, oldest first,
// waiting up to wait for at least one when there are none yet.
func (s *Sim) AttemptsAfter(ctx context.Context, seq int64, wait time.Duration) []Attempt {
	newer := func() []Attempt {
		s.mu.Lock()
		defer s.mu.Unlock()
		i := len(s.st.Attempts)
		for i > 0 && s.st.Attempts[i-1].Seq > seq {
			i--
		}
		return slices.Clone(s.st.Attempts[i:])
	}
	if out := newer(); len(out) > 0 || wait <= 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var out []Attempt
	s.send.wait(ctx, func() bool { out = newer(); return len(out) > 0 })
	return out
}

// LastAttemptSeq is the Seq of the newest attempt (0 before any), where a
// watcher starts.
func (s *Sim) LastAttemptSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.st.Attempts); n > 0 {
		return s.st.Attempts[n-1].Seq
	}
	return 0
}
