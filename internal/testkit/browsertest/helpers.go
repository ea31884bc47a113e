package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// record is the tab's listener: it must return fast, so it only appends.
func (s *session) record(ev any) {
	var m message
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		parts := make([]string, len(ev.Args))
		for i, a := range ev.Args {
			parts[i] = describe(a)
		}
		m = message{kind: string(ev.Type), text: strings.Join(parts, " ")}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		m = message{kind: "exception", text: text}
	case *log.EventEntryAdded:
		m = message{kind: string(ev.Entry.Level), text: ev.Entry.Text + " " + ev.Entry.URL}
	default:
		return
	}
	m.at = time.Now()
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
}

// recordRaw records a CDP message of a target attached without flatten
// (see startWatch): the same three events record takes, still encoded.
func (s *session) recordRaw(raw string) {
	var msg struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if json.Unmarshal([]byte(raw), &msg) != nil {
		return
	}
	var m message
	switch msg.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string      `json:"type"`
			Args []rawObject `json:"args"`
		}
		json.Unmarshal(msg.Params, &p)
		parts := make([]string, len(p.Args))
		for i, a := range p.Args {
			parts[i] = a.describe()
		}
		m = message{kind: p.Type, text: strings.Join(parts, " ")}
	case "Runtime.exceptionThrown":
		var p struct {
			Details struct {
				Text      string     `json:"text"`
				Exception *rawObject `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(msg.Params, &p)
		m = message{kind: "exception", text: p.Details.Text}
		if p.Details.Exception != nil && p.Details.Exception.Description != "" {
			m.text += " " + p.Details.Exception.Description
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Text, URL string } `json:"entry"`
		}
		json.Unmarshal(msg.Params, &p)
		m = message{kind: p.Entry.Level, text: p.Entry.Text + " " + p.Entry.URL}
	default:
		return
	}
	m.at = time.Now()
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
}

// rawObject is the part of a CDP Runtime.RemoteObject a console line needs.
type rawObject struct {
	Value               json.RawMessage `json:"value"`
	UnserializableValue string          `json:"unserializableValue"`
	Description         string          `json:"description"`
}

// describe renders a console argument as DevTools would, roughly.
func (a rawObject) describe() string {
	if len(a.Value) > 0 {
		var s string
		if json.Unmarshal(a.Value, &s) == nil {
			return s
		}
		return string(a.Value)
	}
	if a.UnserializableValue != "" {
		return a.UnserializableValue
	}
	return a.Description
}

// describe is rawObject.describe of a decoded argument.
func describe(a *runtime.RemoteObject) string {
	return rawObject{Value: json.RawMessage(a.Value), UnserializableValue: string(a.UnserializableValue),
		Description: a.Description}.describe()
}

// Console returns what the page (of ctx: a tab from New or a frame from
// Frame) wrote to the console so far, one "kind: text" line each.
func Console(ctx context.Context) []string {
	s := sessionOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.msgs))
	for i, m := range s.msgs {
		out[i] = m.kind + ": " + m.text
	}
	return out
}

// ConsoleErrors returns only the errors and uncaught exceptions.
func ConsoleErrors(ctx context.Context) []string {
	s := sessionOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.msgs {
		if m.kind == "error" || m.kind == "exception" || m.kind == "assert" {
			out = append(out, m.kind+": "+m.text)
		}
	}
	return out
}

// WaitText waits until the first element matching the CSS selector
// contains text, and returns its whole text. It fails the test, naming what
// the element said instead, if that does not happen within timeout.
func WaitText(t testing.TB, ctx context.Context, selector, text string, timeout time.Duration) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		got, err := chromedp.Run(wctx, chromedp.Evaluate[string](fmt.Sprintf(
			`(() => { const e = document.querySelector(%q); return e ? e.textContent : "<no element>"; })()`, selector)))
		if err == nil {
			last = got
			if strings.Contains(got, text) {
				return got
			}
		}
		select {
		case <-wctx.Done():
			t.Fatalf("browsertest: %s never contained %q; it says %q (console errors: %v)",
				selector, text, last, ConsoleErrors(ctx))
			return ""
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitFor waits until the JavaScript expression js is true on the page of
// ctx (a tab, or a frame from Frame), and fails the test, saying what was
// awaited, if it is not within timeout.
func WaitFor(t testing.TB, ctx context.Context, js, what string, timeout time.Duration) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if ok, err := chromedp.Run(wctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		select {
		case <-wctx.Done():
			t.Fatalf("browsertest: %s did not happen within %v (console errors: %v)", what, timeout, ConsoleErrors(ctx))
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Click clicks the element sel of ctx's page as a person does: once it is
// visible and nothing on the page is still moving. A click is aimed at
// where the element is when it is computed; the sandbox's checkout modal
// rises into place for 160 ms, and a click aimed during that missed its Pay
// button about one run in four. Endless animations (a busy spinner) do not
// count.
func Click(t testing.TB, ctx context.Context, sel string, timeout time.Duration) {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(cctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("browsertest: click %s: %v", sel, err)
	}
	const still = `document.getAnimations().every(a => a.playState !== "running" ||
		a.effect.getComputedTiming().iterations === Infinity)`
	for {
		if ok, err := chromedp.Run(cctx, chromedp.Evaluate[bool](still)); err != nil || ok {
			break // still, or out of time: the click then says so
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := chromedp.Do(cctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("browsertest: click %s: %v", sel, err)
	}
}

// Type types text into the field sel of ctx's page as a person does: once
// the field has the focus of a document that has focus, key by key. It
// fails the test when the field does not then hold what it held plus text,
// so a key lost to a change of focus shows here, not later as a form sent
// with half a value.
func Type(t testing.TB, ctx context.Context, sel, text string, timeout time.Duration) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("browsertest: type into %s: %v", sel, err)
	}
	focus := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return null;
		if (document.activeElement !== e) e.focus();
		return document.activeElement === e && document.hasFocus() ? e.value : null; })()`, sel)
	var before *string
	for {
		if before, _ = chromedp.Run(tctx, chromedp.Evaluate[*string](focus)); before != nil {
			break
		}
		select {
		case <-tctx.Done():
			t.Fatalf("browsertest: %s never had the focus of a focused document to type into", sel)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := chromedp.Do(tctx, chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		t.Fatalf("browsertest: type into %s: %v", sel, err)
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).value`, sel)))
	if err != nil || got != *before+text {
		t.Fatalf("browsertest: typed %q into %s, which holds %q (%v): a key went elsewhere", text, sel, got, err)
	}
}

// Frame returns a context for the iframe whose URL starts with urlPrefix,
// waiting for it to load. It reaches an iframe from another site (such as
// the app the sandbox relays to localhost while the parent is on
// 127.0.0.1), which Chrome runs as a target of its own.
func Frame(t testing.TB, ctx context.Context, urlPrefix string, timeout time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatalf("browsertest: listing targets: %v", err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, urlPrefix) {
				s := &session{}
				fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithListener(s.record))
				t.Cleanup(cancel)
				fctx = context.WithValue(fctx, sessionKey{}, s)
				if err := chromedp.Do(fctx); err != nil {
					t.Fatalf("browsertest: attaching to the frame %s: %v", info.URL, err)
				}
				return fctx
			}
		}
		if time.Now().After(deadline) {
			var urls []string
			for _, info := range infos {
				urls = append(urls, info.Type+" "+info.URL)
			}
			t.Fatalf("browsertest: no iframe at %s after %v; targets: %v", urlPrefix, timeout, urls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// OutDir returns testdata/out at the repository root (the directory with
// go.mod), creating it. The repository ignores it.
func OutDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("browsertest: no go.mod above the working directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "testdata", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Screenshot saves what the tab shows as testdata/out/<TestName>-<name>.png
// (just <TestName>.png for an empty name) and returns the path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	p, err := save(t, ctx, name)
	if err != nil {
		t.Fatalf("browsertest: screenshot: %v", err)
	}
	t.Logf("browsertest: screenshot %s", p)
	return p
}

func save(t testing.TB, ctx context.Context, name string) (string, error) {
	file := unsafeName.ReplaceAllString(t.Name(), "_")
	if name != "" {
		file += "-" + unsafeName.ReplaceAllString(name, "_")
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		return "", err
	}
	p := filepath.Join(OutDir(t), file+".png")
	return p, os.WriteFile(p, png, 0o644)
}
