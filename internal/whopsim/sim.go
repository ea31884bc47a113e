package whopsim

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Scheme is how webhook deliveries are signed and shaped.
type Scheme string

// The two webhook schemes Whop uses (PROTOCOL §4).
const (
	// Standard is Standard Webhooks (webhook-id, webhook-timestamp,
	// webhook-signature) with the v1 envelope; dashboard endpoints get it.
	Standard Scheme = "standard"
	// Legacy is x-whop-signature with the v5 {action, data} envelope.
	Legacy Scheme = "legacy"
)

// Options configure a Sim. The zero value is usable: it makes a sandbox
// with the seeded state, real time, crypto randomness and no webhook URL.
type Options struct {
	// PublicURL is where the main handler is reachable (the parent page's
	// origin); RelayURL is where the relay is. They default to the ports the
	// iframe SDK trusts (http://localhost:8003) and the next one.
	PublicURL string
	RelayURL  string
	// WebhookURL receives deliveries; empty records events without sending.
	WebhookURL    string
	WebhookScheme Scheme
	// WebhookTimeout bounds one delivery attempt (default 10 s).
	WebhookTimeout time.Duration
	// WebhookConcurrency is how many attempts may be in flight at once to
	// each endpoint (default 1, which keeps an endpoint's deliveries in the
	// order they happened). Endpoints never wait for one another: a hung
	// listener does not hold up the app's deliveries. Whop itself delivers
	// concurrently and unordered; load and fault tests set more to send a
	// storm rather than a queue.
	WebhookConcurrency int
	// KeepAttempts bounds the delivery log (default 2000, so a long dev
	// session's state file stays small); tests that count every attempt of
	// thousands of deliveries raise it.
	KeepAttempts int
	// RetryDelays are the waits after each failed attempt; after the last
	// one the sender gives up. Default 10 s, 20 s, 40 s (Whop's schedule).
	RetryDelays []time.Duration
	// PaymentDelay is how long a new payment answers 404, as Whop's do right
	// after checkout. Zero means the default of one second; negative, none.
	PaymentDelay time.Duration
	// PaymentPendingFor is how long after that delay a paid payment still
	// reads as pending, as Whop's can before they settle (default none).
	PaymentPendingFor time.Duration
	// Clock drives timers and timestamps (default the wall clock).
	Clock Clock
	// Random feeds ids, fault rates and shuffles (default crypto/rand).
	Random io.Reader
	// HTTPClient sends webhooks (default a client with WebhookTimeout); its
	// redirect policy is replaced, since webhooks never follow redirects.
	HTTPClient *http.Client
	// Logger receives one line per delivery attempt and API fault.
	Logger *slog.Logger
	// StateFile, when set, is loaded at start and rewritten after each
	// change, so a restarted sandbox keeps its payments and deliveries.
	StateFile string
	// ExtraAPIVersions are Api-Version-Date values to accept besides the
	// ones Whop lists (see APIVersions), for a client newer than the
	// sandbox; they answer as the newest known version does.
	ExtraAPIVersions []string
}

// Sim is a running sandbox. Its methods are safe for concurrent use.
type Sim struct {
	opts   Options
	clock  Clock
	ids    *idGen
	log    *slog.Logger
	seed   Seed
	tokens *tokenKeys
	send   *sender

	mu        sync.Mutex
	st        *State
	faults    Faults
	public    string
	relay     string
	endpoints map[string]*Endpoint // listeners' (endpoints.go)
	quit      chan struct{}        // closed by EndStreams
	quitOnce  sync.Once
}

// New makes a sandbox with the seeded state, or the state saved in
// opts.StateFile when that file exists.
func New(opts Options) (*Sim, error) {
	if opts.PublicURL == "" {
		opts.PublicURL = "http://localhost:8003"
	}
	if opts.RelayURL == "" {
		opts.RelayURL = "http://localhost:8004"
	}
	if opts.WebhookScheme == "" {
		opts.WebhookScheme = Standard
	}
	if opts.WebhookScheme != Standard && opts.WebhookScheme != Legacy {
		return nil, fmt.Errorf("whopsim: webhook scheme %q: want %q or %q", opts.WebhookScheme, Standard, Legacy)
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 10 * time.Second
	}
	if opts.WebhookConcurrency <= 0 {
		opts.WebhookConcurrency = 1
	}
	if opts.KeepAttempts <= 0 {
		opts.KeepAttempts = 2000
	}
	if opts.RetryDelays == nil {
		opts.RetryDelays = []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}
	}
	switch {
	case opts.PaymentDelay == 0:
		opts.PaymentDelay = time.Second
	case opts.PaymentDelay < 0:
		opts.PaymentDelay = 0
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: opts.WebhookTimeout}
	}
	// A webhook sender does not follow redirects: the POST's body would be
	// lost on a 302 and the redirect's target's answer counted as the
	// endpoint's. A 3xx is a failed attempt, retried like any other.
	hc := *opts.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	opts.HTTPClient = &hc
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{opts: opts, clock: opts.Clock, ids: &idGen{r: opts.Random}, log: opts.Logger,
		public: opts.PublicURL, relay: opts.RelayURL, endpoints: map[string]*Endpoint{}, quit: make(chan struct{})}
	var err error
	if s.tokens, err = newTokenKeys(s.ids); err != nil {
		return nil, err
	}
	s.st, s.seed = seedState()
	if opts.StateFile != "" {
		if err := s.load(opts.StateFile); err != nil {
			return nil, err
		}
	}
	if err := s.adoptSavedKeyLocked(); err != nil {
		return nil, err
	}
	s.send = newSender(s)
	return s, nil
}

// Resume makes what a sandbox stopped on the same state file left undone:
// the deliveries it had queued or held, and the retries its log says are
// due. New does not, so that a Sim made only to read its seed (`serve
// --print-env`, run before the app is up) sends nothing and leaves the file
// as it was: call Resume once the sandbox serves, and the app may soon
// answer. It acts once; later calls, and calls after Reset, do nothing.
func (s *Sim) Resume() { s.send.resumeOnce.Do(s.send.resume) }

// Seed returns the seeded ids and keys.
func (s *Sim) Seed() Seed { return s.seed }

// SetURLs tells the sandbox where its two handlers are reachable, for tests
// that mount them on httptest servers with ports chosen at run time.
func (s *Sim) SetURLs(public, relay string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.public, s.relay = public, relay
}

// URLs returns the public URLs of the main handler and the relay.
func (s *Sim) URLs() (public, relay string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.public, s.relay
}

// EndStreams ends every listener's stream (`whopsim listen`), telling it
// the sandbox is stopping; call it before shutting the server down, which
// otherwise waits for those requests to end.
func (s *Sim) EndStreams() { s.quitOnce.Do(func() { close(s.quit) }) }

// Close ends the listeners' streams, stops pending retries and waits for
// attempts in flight, then saves the state if a state file is configured.
// Deliveries queued, held or due a retry stay in that state, and a sandbox
// started on the same file makes them when told to Resume.
func (s *Sim) Close() error {
	s.EndStreams()
	s.send.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

// Reset returns the sandbox to its seeded state: payments, events,
// deliveries and faults are forgotten, pending retries cancelled. Delivery
// and attempt numbers go on from where they were.
func (s *Sim) Reset() {
	s.send.resumeOnce.Do(func() {}) // nothing is left to resume
	s.send.forget()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.st.TokenKey // the key outlives a reset, as the process's would
	// Numbers keep counting up: a watcher's "after seq" point must not be
	// outrun, nor a delivery number of before the reset reused. (An
	// attempt in flight across the reset is not logged: sender.forget.)
	seq := s.st.Seq
	s.st, _ = seedState()
	s.st.TokenKey, s.st.Seq = key, max(s.st.Seq, seq)
	s.faults = Faults{}
	s.persistLocked()
}

// update runs f on the state under the lock, puts the events f produced in
// the outbox, persists the result in one save and then hands the
// deliveries to the sender, outside the lock.
func (s *Sim) update(f func(st *State) ([]*Event, error)) error {
	s.mu.Lock()
	evs, err := f(s.st)
	var jobs []job
	if len(evs) > 0 {
		jobs = s.send.enqueueLocked(evs)
	}
	if err == nil || len(evs) > 0 {
		s.persistLocked()
	}
	s.mu.Unlock()
	for _, j := range jobs {
		s.send.add(j)
	}
	return err
}

// view runs f on the state under the lock.
func (s *Sim) view(f func(st *State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.st)
}
