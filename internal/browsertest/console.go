package browsertest

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Every page a browser test opens is watched: the tab itself, every iframe
// (Chrome runs a cross-site one as a target of its own, whose console the
// tab never sees) and any tab a page opens. When the test ends, New's
// cleanup fails it for each warning or error any of them logged that the
// test did not declare expected with AllowConsole. A page that loads clean
// today stays clean: a new warning fails the test that sees it.

// watch is the browser-wide record of every page's console.
type watch struct {
	mainTab target.ID

	mu       sync.Mutex
	pages    map[target.ID]*session // the tab and every target attached since
	urls     map[target.ID]string   // each target's latest URL, for the report
	allowed  []*regexp.Regexp
	cutoff   time.Time // when the test body ended; later messages are the teardown's
	attachCh chan target.Info
	cancels  []context.CancelFunc
}

type watchKey struct{}

func watchOf(ctx context.Context) *watch {
	w, _ := ctx.Value(watchKey{}).(*watch)
	return w
}

// startWatch records the tab's session and attaches a recorder to every page
// and iframe the browser creates from now on.
func startWatch(t testing.TB, ctx context.Context, tab *session) (*watch, error) {
	c := chromedp.FromContext(ctx)
	w := &watch{mainTab: c.Target.TargetID, pages: map[target.ID]*session{c.Target.TargetID: tab},
		urls: map[target.ID]string{}, attachCh: make(chan target.Info, 64)}
	// The listener must return fast: attaching runs commands, so it happens
	// on a goroutine of its own.
	err := chromedp.ListenBrowser(ctx, func(ev any) {
		var info *target.Info
		switch ev := ev.(type) {
		case *target.EventTargetCreated:
			info = ev.TargetInfo
			if info.Type == "page" || info.Type == "iframe" {
				select {
				case w.attachCh <- *info:
				default: // more new pages at once than any test opens
				}
			}
		case *target.EventTargetInfoChanged:
			info = ev.TargetInfo
		default:
			return
		}
		w.mu.Lock()
		w.urls[info.TargetID] = info.URL
		w.mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	go w.attachAll(ctx)
	// The test body has ended when its context is done; cleanups (servers
	// stopping under a page that still polls them) come after.
	go func() {
		<-t.Context().Done()
		w.mu.Lock()
		w.cutoff = time.Now()
		w.mu.Unlock()
	}()
	return w, nil
}

// attachAll attaches a recorder to each new target until the browser goes.
// Chrome replays what a target logged before the attach (Runtime.enable and
// Log.enable send the stored messages), so nothing is lost to the delay.
func (w *watch) attachAll(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case info := <-w.attachCh:
			if info.TargetID == w.mainTab {
				continue
			}
			s := &session{}
			// Detach, never close, when the test ends: closing an iframe's
			// target is not ours to do.
			pctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID),
				chromedp.WithListener(s.record), chromedp.WithDetachOnCancel())
			w.mu.Lock()
			w.pages[info.TargetID] = s
			w.cancels = append(w.cancels, cancel)
			w.mu.Unlock()
			go chromedp.Do(pctx) // a target gone before the attach logged nothing we could see
		}
	}
}

// AllowConsole declares console warnings and errors matching pattern (a
// regular expression) expected for the rest of the test, on every page: a
// 4xx page the test opens on purpose makes Chrome log "Failed to load
// resource", for instance. Keep patterns narrow; the point of the check is
// that nothing else slips through.
func AllowConsole(ctx context.Context, pattern string) {
	w := watchOf(ctx)
	if w == nil {
		return
	}
	re := regexp.MustCompile(pattern)
	w.mu.Lock()
	w.allowed = append(w.allowed, re)
	w.mu.Unlock()
}

// ConsoleProblems returns every warning, error and uncaught exception any
// page of the test's browser logged (before the test body ended) that
// AllowConsole did not declare expected, one "url: kind: text" line each.
func ConsoleProblems(ctx context.Context) []string {
	w := watchOf(ctx)
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for id, s := range w.pages {
		s.mu.Lock()
		for _, m := range s.msgs {
			if !m.problem() || (!w.cutoff.IsZero() && m.at.After(w.cutoff)) {
				continue
			}
			line := m.kind + ": " + m.text
			if w.allowedLocked(line) {
				continue
			}
			out = append(out, fmt.Sprintf("%s: %s", cmp.Or(w.urls[id], string(id)), line))
		}
		s.mu.Unlock()
	}
	return out
}

func (w *watch) allowedLocked(line string) bool {
	for _, re := range w.allowed {
		if re.MatchString(line) {
			return true
		}
	}
	return false
}

// checkConsole fails t for each unexpected console problem, then stops
// watching.
func checkConsole(t testing.TB, ctx context.Context) {
	if w := watchOf(ctx); w != nil {
		defer func() {
			w.mu.Lock()
			for _, c := range w.cancels {
				c()
			}
			w.mu.Unlock()
		}()
	}
	if problems := ConsoleProblems(ctx); len(problems) > 0 {
		t.Errorf("browsertest: %d console warning(s) or error(s) on the test's pages (declare expected ones with AllowConsole):\n  %s",
			len(problems), strings.Join(problems, "\n  "))
	}
}

// problem reports whether a message is a warning or worse.
func (m message) problem() bool {
	switch m.kind {
	case "warning", "error", "exception", "assert":
		return true
	}
	return false
}
