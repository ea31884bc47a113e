package browsertest

import (
	"cmp"
	"context"
	"encoding/json"
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

	mu        sync.Mutex
	pages     map[target.ID]*session // the tab and every target attached since
	bySession map[string]*session    // the attached targets, by CDP session
	urls      map[target.ID]string   // each target's latest URL, for the report
	allowed   []*regexp.Regexp
	cutoff    time.Time // when the test body ended; later messages are the teardown's
	attachCh  chan target.ID
}

type watchKey struct{}

func watchOf(ctx context.Context) *watch {
	w, _ := ctx.Value(watchKey{}).(*watch)
	return w
}

// startWatch records the tab's session and attaches a recorder to every page
// and iframe the browser creates from now on.
//
// The recorders are raw CDP sessions of the browser connection (attached
// with flatten off: their messages come wrapped in browser events), not
// chromedp targets: a chromedp target keeps a DOM tree that its attach
// writes while the target's own goroutine reads it as DOM events arrive,
// a race the race detector catches on pages that are loading. A console
// needs none of that: Runtime and Log are enough.
func startWatch(t testing.TB, ctx context.Context, tab *session) (*watch, error) {
	c := chromedp.FromContext(ctx)
	w := &watch{mainTab: c.Target.TargetID, pages: map[target.ID]*session{c.Target.TargetID: tab},
		bySession: map[string]*session{}, urls: map[target.ID]string{}, attachCh: make(chan target.ID, 64)}
	// The listener must return fast: attaching runs commands, so it happens
	// on a goroutine of its own; a wrapped message is only decoded here.
	err := chromedp.ListenBrowser(ctx, func(ev any) {
		var info *target.Info
		switch ev := ev.(type) {
		case *target.EventReceivedMessageFromTarget:
			w.mu.Lock()
			s := w.bySession[string(ev.SessionID)]
			w.mu.Unlock()
			if s != nil {
				s.recordRaw(ev.Message)
			}
			return
		case *target.EventTargetCreated:
			info = ev.TargetInfo
			if (info.Type == "page" || info.Type == "iframe") && info.TargetID != w.mainTab {
				select {
				case w.attachCh <- info.TargetID:
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
	go w.attachAll(ctx, c.Browser)
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
// Log.enable send the stored messages), so nothing is lost to the delay. A
// target gone before the attach logged nothing anyone could see.
func (w *watch) attachAll(ctx context.Context, b *chromedp.Browser) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-w.attachCh:
			var res struct {
				SessionID string `json:"sessionId"`
			}
			if err := b.Call(ctx, "Target.attachToTarget", map[string]any{"targetId": id, "flatten": false}, &res); err != nil {
				continue
			}
			s := &session{}
			w.mu.Lock()
			w.pages[id] = s
			w.bySession[res.SessionID] = s
			w.mu.Unlock()
			for i, method := range []string{"Runtime.enable", "Log.enable"} {
				msg, _ := json.Marshal(map[string]any{"id": i + 1, "method": method})
				b.Call(ctx, "Target.sendMessageToTarget", map[string]any{"sessionId": res.SessionID, "message": string(msg)}, nil)
			}
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

// checkConsole fails t for each unexpected console problem.
func checkConsole(t testing.TB, ctx context.Context) {
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
