// Package browsertest runs a headless Chromium for a test through chromedp:
// it finds the browser (or skips loudly, or fails under REQUIRE_BROWSER=1),
// bounds the whole test with a hard timeout so a hung browser fails instead
// of hanging, collects the console, and saves screenshots where a person can
// look at them (testdata/out/ at the repository root, git-ignored).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds everything one test does in the browser.
const DefaultTimeout = 90 * time.Second

// Option configures New.
type Option func(*config)

type config struct {
	timeout       time.Duration
	width, height int
}

// WithTimeout replaces DefaultTimeout.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithWindowSize sets the viewport (default 1280×800).
func WithWindowSize(width, height int) Option {
	return func(c *config) { c.width, c.height = width, height }
}

// FindChromium returns the browser to use: $CHROMIUM_PATH, else
// /usr/bin/chromium, else the first of chromium, chromium-browser,
// google-chrome and google-chrome-stable on $PATH.
func FindChromium() (string, error) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHROMIUM_PATH=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium or Chrome found (looked at $CHROMIUM_PATH, /usr/bin/chromium, " +
		"chromium, chromium-browser, google-chrome, google-chrome-stable)")
}

// New starts a fresh headless Chromium (own profile, no network chatter)
// for t and returns the chromedp context of its first tab. Everything run
// on it shares one deadline; the browser is closed when the test ends, and
// on failure a screenshot and the console are saved first.
//
// Every page the browser opens (the tab, its iframes, new tabs) is watched,
// and a warning or error any of them logs fails the test when it ends,
// unless AllowConsole declared it expected. Messages logged after the test
// body returned (servers stopping under a polling page) do not count.
//
// Without a browser the test is skipped with a loud message, unless
// REQUIRE_BROWSER=1, when it fails.
func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	cfg := config{timeout: DefaultTimeout, width: 1280, height: 800}
	for _, o := range opts {
		o(&cfg)
	}
	path, err := FindChromium()
	if err != nil {
		msg := "BROWSER TEST NOT RUN: " + err.Error() + ". Install Chromium (apt-get install chromium) or set CHROMIUM_PATH."
		if os.Getenv("REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " REQUIRE_BROWSER=1 makes this a failure.")
		}
		loud := strings.Repeat("!", 78)
		fmt.Fprintf(os.Stderr, "\n%s\n%s: %s\nSet REQUIRE_BROWSER=1 to fail instead of skipping.\n%s\n\n", loud, t.Name(), msg, loud)
		t.Skip(msg)
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root in containers
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(cfg.width, cfg.height),
		// Keep the browser off the network: a closed network only makes
		// these slow, and nothing here needs them.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	deadline, cancelDeadline := context.WithTimeout(context.Background(), cfg.timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(deadline, flags...)
	s := &session{}
	ctx, cancelTab := chromedp.NewContext(alloc, chromedp.WithListener(s.record))
	ctx = context.WithValue(ctx, sessionKey{}, s)
	t.Cleanup(func() {
		checkConsole(t, ctx)
		if t.Failed() {
			saveFailure(t, ctx)
		}
		cancelTab()
		cancelAlloc()
		cancelDeadline()
	})
	if err := chromedp.Do(ctx); err != nil { // start it now, so a broken browser fails here
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	// A person types into a window that has focus. A headless tab has none
	// until its first input event, which focuses it a moment later: keys
	// sent into an iframe meanwhile lose their field when the tab's focus
	// lands on the parent page (the first key typed, the rest gone). So the
	// tab is focused once, now, as the window in front.
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, page.BringToFront, cdp.Empty{})
		return err
	})); err != nil {
		t.Fatalf("browsertest: focusing the tab: %v", err)
	}
	w, err := startWatch(t, ctx, s)
	if err != nil {
		t.Fatalf("browsertest: watching the browser's pages: %v", err)
	}
	// The cleanup above reads ctx when it runs, so it sees the watch too.
	ctx = context.WithValue(ctx, watchKey{}, w)
	return ctx
}

// saveFailure keeps what a person needs to see why a browser test failed.
func saveFailure(t testing.TB, ctx context.Context) {
	if p, err := save(t, ctx, "failed"); err == nil {
		t.Logf("browsertest: screenshot at failure: %s", p)
	}
	if msgs := Console(ctx); len(msgs) > 0 {
		t.Logf("browsertest: console:\n  %s", strings.Join(msgs, "\n  "))
	}
}

// session collects what a tab writes to its console.
type session struct {
	mu   sync.Mutex
	msgs []message
}

type sessionKey struct{}

type message struct {
	kind, text string
	at         time.Time // when it reached us
}

func sessionOf(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	if s == nil {
		return &session{}
	}
	return s
}
