package whop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

const testAPIKey = "sk_test_do_not_log_me"

// recorded is one request as the fake Whop saw it.
type recorded struct {
	Method string
	Path   string
	Raw    string // the escaped path as sent
	Query  url.Values
	Header http.Header
	Body   []byte
}

// fakeWhop is an httptest server that plays Whop: each test gives it the
// handler for the exchange under test, and it records what the client sent.
type fakeWhop struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	sleeps []time.Duration
}

func (f *fakeWhop) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeWhop) waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// setup starts a fake Whop running handler and a client pointed at it the
// way an app points at the sandbox: WithBaseURL(url + "/api/v1"). Sleeps are
// recorded instead of waited, and jitter is off so backoffs are exact.
func setup(t *testing.T, handler http.HandlerFunc, opts ...Option) (*Client, *fakeWhop) {
	t.Helper()
	f := &fakeWhop{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.Query(), r.Header.Clone(), body})
		f.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(f.srv.Close)
	base := []Option{
		WithBaseURL(f.srv.URL + "/api/v1"),
		WithAppID("app_test"),
		WithSleep(func(ctx context.Context, d time.Duration) error {
			f.mu.Lock()
			f.sleeps = append(f.sleeps, d)
			f.mu.Unlock()
			return ctx.Err()
		}),
		WithJitter(func(d time.Duration) time.Duration { return d }),
	}
	return New(testAPIKey, append(base, opts...)...), f
}

// reply writes a JSON body with a status.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// replyJSON answers every request with the same 200 body.
func replyJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { reply(w, http.StatusOK, body) }
}

// only asserts exactly one request was made and returns it.
func only(t *testing.T, f *fakeWhop) recorded {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("made %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// assertRequest checks the parts of a request every endpoint test cares about.
func assertRequest(t *testing.T, r recorded, method, path string) {
	t.Helper()
	if r.Method != method || r.Path != path {
		t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, method, path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testAPIKey {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("X-Whop-App-Id"); got != "app_test" {
		t.Errorf("X-Whop-App-Id = %q", got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if method == http.MethodGet && len(r.Body) != 0 {
		t.Errorf("GET sent a body: %s", r.Body)
	}
	if method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST Content-Type = %q", r.Header.Get("Content-Type"))
	}
}

// assertJSONBody compares a request body with want as JSON values. Tests
// that care about the exact spelling of a number also check the raw text.
func assertJSONBody(t *testing.T, body []byte, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	g, _ := json.Marshal(got)
	e, _ := json.Marshal(exp)
	if string(g) != string(e) {
		t.Errorf("body = %s\nwant   %s", body, want)
	}
}
