package whop

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is Whop's REST v1 API. The legacy v2 and v5 endpoints are
// found by replacing its "/api/v1" with "/api/v2" and "/api/v5".
const DefaultBaseURL = "https://api.whop.com/api/v1"

// Client calls Whop's REST API with an app or company API key. It is safe for
// concurrent use; create one and share it.
type Client struct {
	apiKey     string
	baseURL    string // ends in /api/v1, no trailing slash
	rootURL    string // scheme://host[/prefix] that /api/v2 and /api/v5 hang from
	httpClient *http.Client
	appID      string
	apiVersion string
	userAgent  string
	log        *slog.Logger
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	jitter     func(time.Duration) time.Duration
	maxRetries int
	backoff    time.Duration
}

// Option configures a Client.
type Option func(*Client)

// New returns a client that authenticates with apiKey. Defaults: Whop's
// production API, http.DefaultClient's transport with a 30 s timeout, two
// retries starting at 0.5 s (the official client's schedule), no logging.
func New(apiKey string, opts ...Option) *Client {
	c := &Client{
		apiKey:     apiKey,
		httpClient: &http.Client{Timeout: 30 * time.Second},
		userAgent:  "creditkit-whop-go",
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:        time.Now,
		sleep:      SleepContext,
		jitter:     defaultJitter,
		maxRetries: 2,
		backoff:    500 * time.Millisecond,
	}
	WithBaseURL(DefaultBaseURL)(c)
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// WithBaseURL points the client at another Whop, such as Whop's sandbox
// ("https://sandbox-api.whop.com/api/v1") or the local one
// ("http://localhost:8003/api/v1"). The v2 and v5 paths are derived from it:
// its "/api/v1" suffix is replaced, or, if it has none, they go under the
// URL as given.
func WithBaseURL(base string) Option {
	return func(c *Client) {
		base = strings.TrimRight(base, "/")
		c.baseURL = base
		c.rootURL = strings.TrimSuffix(base, "/api/v1")
	}
}

// WithHTTPClient sets the HTTP client, for timeouts, proxies or tests.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// WithAppID sends the app id as X-Whop-App-Id, as Whop's own SDKs do when
// acting as an app.
func WithAppID(appID string) Option { return func(c *Client) { c.appID = appID } }

// AccountModelSince is the first API version in which plans name their
// owner as an account (account_id in requests, account in responses)
// instead of a company.
const AccountModelSince = "2026-06-09"

// accountModel reports whether the pinned version speaks of accounts.
// Dates in YYYY-MM-DD compare as strings.
func (c *Client) accountModel() bool { return c.apiVersion >= AccountModelSince }

// WithAPIVersionDate pins Api-Version-Date (YYYY-MM-DD) so Whop does not
// change response shapes under a running app.
func WithAPIVersionDate(date string) Option { return func(c *Client) { c.apiVersion = date } }

// WithUserAgent replaces the User-Agent sent with every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithLogger logs retries and failures. The API key and request bodies are
// never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithClock sets the clock used to read HTTP-date Retry-After headers and to
// check whether a wait still fits in the context's deadline.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithRetry sets how many times a safe request is retried (0 disables) and
// the first backoff, which doubles per attempt up to 8 s.
func WithRetry(maxRetries int, base time.Duration) Option {
	return func(c *Client) {
		c.maxRetries = max(maxRetries, 0)
		if base > 0 {
			c.backoff = base
		}
	}
}

// WithSleep replaces the wait between retries. The function must return
// ctx.Err() early when ctx is done. Tests use it to record the waits instead
// of sleeping.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithJitter replaces the random reduction applied to computed backoffs
// (never to a server's Retry-After). Tests pass an identity function.
func WithJitter(jitter func(time.Duration) time.Duration) Option {
	return func(c *Client) {
		if jitter != nil {
			c.jitter = jitter
		}
	}
}

// SleepContext waits for d or until ctx is done, whichever comes first (the
// one such wait: billing's polls of Whop use it too).
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// defaultJitter takes off up to 25%, so clients that failed together do not
// retry together.
func defaultJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// v1 returns the URL of a v1 path such as "/payments/pay_x".
func (c *Client) v1(path string) string { return c.baseURL + path }

// legacy returns the URL of a path under /api, such as "/v2/payments/pay_x".
func (c *Client) legacy(path string) string { return c.rootURL + "/api" + path }

// getV1 reads one resource, GET {base}/v1{collection}{id}, into w. An id
// that cannot be a path segment is refused before any request, named in
// the error as what ("payment id", "user").
func (c *Client) getV1(ctx context.Context, what, collection, id string, w any) error {
	seg, ok := pathID(id)
	if !ok {
		return fmt.Errorf("%w: %s %q", ErrInvalidArgument, what, id)
	}
	return c.do(ctx, request{method: http.MethodGet, url: c.v1(collection + seg)}, w)
}

// pathID escapes an id for use as one path segment. "." and ".." are refused
// because a server would resolve them as directory steps.
func pathID(id string) (string, bool) {
	if id == "" || id == "." || id == ".." {
		return "", false
	}
	return url.PathEscape(id), true
}
