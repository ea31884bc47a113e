// Package whopsimtest starts the Whop sandbox for a test: the main handler
// and the relay on httptest servers, wired to each other and to the app
// under test, closed when the test ends. It also offers a webhook receiver
// that records deliveries and answers with scripted statuses.
package whopsimtest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// Env is a running sandbox.
type Env struct {
	Sim *whopsim.Sim
	// URL is the origin of the parent page, the API and the control API.
	URL string
	// RelayURL is the origin the app is framed at.
	RelayURL string
	// APIBase is the REST v1 base URL (WHOP_BASE_URL); JWKSURL the user
	// token keys (WHOP_USER_TOKEN_JWKS_URL).
	APIBase string
	JWKSURL string
	Seed    whopsim.Seed
}

// Config says what to start. Options.PublicURL and RelayURL are filled in.
type Config struct {
	Options whopsim.Options
	// App, if set, is started on its own httptest server behind the relay;
	// otherwise AppURL names an app already running; with neither, the
	// relay answers 502.
	App    http.Handler
	AppURL string
	// SameSite keeps the relay on 127.0.0.1 like the parent page, one site
	// on two ports, as under make dev (localhost:8003 and :8004) and on
	// Whop (whop.com and *.apps.whop.com). Chrome then runs the frame in the
	// parent's process, where what the frame gets wrong in talking to its
	// parent (a postMessage to an origin that is not the parent's) shows in
	// the parent's console; browsertest.Frame does not reach such a frame.
	// By default the relay is localhost, another site, so the frame is a
	// target of its own that tests can drive.
	SameSite bool
}

// Start runs a sandbox until the test ends.
func Start(t testing.TB, cfg Config) *Env {
	t.Helper()
	sim, err := whopsim.New(cfg.Options)
	if err != nil {
		t.Fatalf("whopsimtest: %v", err)
	}
	appURL := cfg.AppURL
	if cfg.App != nil {
		app := httptest.NewServer(cfg.App)
		t.Cleanup(app.Close)
		appURL = app.URL
	}
	if appURL == "" {
		appURL = "http://127.0.0.1:1" // nothing listens there: the relay reports 502
	}
	relay, err := sim.Relay(appURL)
	if err != nil {
		t.Fatalf("whopsimtest: %v", err)
	}
	main := httptest.NewServer(sim.Handler())
	rel := httptest.NewServer(relay)
	// Rewrite 127.0.0.1 as localhost in the relay's origin so the parent
	// (127.0.0.1) and the frame (localhost) are different sites, and Chrome
	// gives the frame a process (a target) of its own; see SameSite.
	_, port, _ := net.SplitHostPort(rel.Listener.Addr().String())
	relayURL := "http://localhost:" + port
	if cfg.SameSite {
		relayURL = rel.URL
	}
	sim.SetURLs(main.URL, relayURL)
	sim.Resume() // serving, as `whopsim serve` does once it listens
	t.Cleanup(func() {
		main.Close()
		rel.Close()
		if err := sim.Close(); err != nil {
			t.Errorf("whopsimtest: closing the sandbox: %v", err)
		}
	})
	return &Env{Sim: sim, URL: main.URL, RelayURL: relayURL, APIBase: main.URL + "/api/v1",
		JWKSURL: main.URL + "/.well-known/jwks.json", Seed: sim.Seed()}
}

// Delivery is one request a Receiver got.
type Delivery struct {
	Header http.Header
	Body   []byte
}

// Receiver is a webhook endpoint for tests: it records every delivery and
// answers with the statuses queued by Reply, then 200.
type Receiver struct {
	URL string

	mu       sync.Mutex
	got      []Delivery
	statuses []int
}

// NewReceiver starts a receiver until the test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, Delivery{Header: req.Header.Clone(), Body: body})
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	w.WriteHeader(status)
}

// Reply queues the statuses of the next deliveries.
func (r *Receiver) Reply(statuses ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, statuses...)
}

// Deliveries returns what was received so far.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}
