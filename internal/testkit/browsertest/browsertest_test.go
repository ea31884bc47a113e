package browsertest_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditkit/creditkit/internal/testkit/browsertest"
)

const page = `<!doctype html><html><head><link rel="icon" href="data:,"><title>t</title></head>
<body><p id="status">loading</p>
<script>
console.log("hello", 42);
console.error("something broke");
setTimeout(() => { document.getElementById("status").textContent = "ready at last"; }, 200);
</script></body></html>`

func TestBrowserHelpers(t *testing.T) {
	ctx := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, page) }))
	t.Cleanup(srv.Close)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if got := browsertest.WaitText(t, ctx, "#status", "ready", 5*time.Second); got != "ready at last" {
		t.Errorf("WaitText = %q", got)
	}
	console := strings.Join(browsertest.Console(ctx), "\n")
	if !strings.Contains(console, "log: hello 42") || !strings.Contains(console, "error: something broke") {
		t.Errorf("console = %q", console)
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) != 1 || errs[0] != "error: something broke" {
		t.Errorf("console errors = %v", errs)
	}
	// The page's error is on purpose: without this the test would fail.
	browsertest.AllowConsole(ctx, `^error: something broke$`)
	p := browsertest.Screenshot(t, ctx, "ready")
	if !strings.HasSuffix(p, "/testdata/out/TestBrowserHelpers-ready.png") {
		t.Errorf("screenshot path = %s", p)
	}
	b, err := os.ReadFile(p)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("screenshot is not a PNG: %v", err)
	}
	os.Remove(p)
}

func TestFindChromiumHonoursTheVariable(t *testing.T) {
	t.Setenv("CHROMIUM_PATH", "/nonexistent/chromium")
	if _, err := browsertest.FindChromium(); err == nil || !strings.Contains(err.Error(), "CHROMIUM_PATH") {
		t.Errorf("FindChromium with a bad CHROMIUM_PATH: %v", err)
	}
}

func TestNoBrowserSkips(t *testing.T) {
	reached := false
	t.Run("without a browser", func(t *testing.T) {
		t.Setenv("CHROMIUM_PATH", "/nonexistent/chromium")
		t.Setenv("REQUIRE_BROWSER", "")
		browsertest.New(t)
		reached = true
	})
	if reached {
		t.Error("New returned without a browser instead of skipping")
	}
}

// TestConsoleCheckSeesEveryPage: the end-of-test check counts what every
// page logged, a cross-site iframe (a target of its own, which the tab's
// console never sees) included, and AllowConsole takes out only what it
// names.
func TestConsoleCheckSeesEveryPage(t *testing.T) {
	ctx := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><html><head><link rel="icon" href="data:,"></head><body><p id="in">inner</p>
<script>console.warn("inner frame warns"); console.info("only information");</script></body></html>`)
	}))
	t.Cleanup(inner.Close)
	// The frame is on localhost and the tab on 127.0.0.1: two sites, so
	// Chrome gives the frame a process of its own.
	_, port, _ := net.SplitHostPort(inner.Listener.Addr().String())
	frameURL := "http://localhost:" + port + "/"
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<iframe src="`+frameURL+`"></iframe><script>console.error("outer page errs");</script></body></html>`)
	}))
	t.Cleanup(outer.Close)
	if err := chromedp.Do(ctx, chromedp.Navigate(outer.URL)); err != nil {
		t.Fatal(err)
	}
	frame := browsertest.Frame(t, ctx, frameURL, 10*time.Second)
	browsertest.WaitText(t, frame, "#in", "inner", 5*time.Second)
	want := []string{outer.URL + "/: error: outer page errs", frameURL + ": warning: inner frame warns"}
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got = browsertest.ConsoleProblems(ctx)
		slices.Sort(got)
		if slices.Equal(got, want) {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("console problems = %q, want %q", got, want)
	}
	browsertest.AllowConsole(ctx, `inner frame warns`)
	if got := browsertest.ConsoleProblems(ctx); !slices.Equal(got, want[:1]) {
		t.Fatalf("after allowing the frame's warning: %q, want %q", got, want[:1])
	}
	browsertest.AllowConsole(ctx, `^error: outer page errs$`)
	if got := browsertest.ConsoleProblems(ctx); len(got) != 0 {
		t.Fatalf("after allowing both: %q", got)
	}
}

// TestTypingIntoAFrameOfAFreshTab: the tab New opens has focus, as the
// window a person types into does, so keys sent into a cross-site iframe
// stay in the field they were aimed at. Without it the tab took focus at
// the first key, a moment later, and moved it to the parent page: under
// load a form got "p" of the id typed into it.
func TestTypingIntoAFrameOfAFreshTab(t *testing.T) {
	ctx := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<form><input id="payment" name="payment" autocomplete="off"></form></body></html>`)
	}))
	t.Cleanup(inner.Close)
	_, port, _ := net.SplitHostPort(inner.Listener.Addr().String())
	frameURL := "http://localhost:" + port + "/"
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<iframe src="`+frameURL+`"></iframe></body></html>`)
	}))
	t.Cleanup(outer.Close)
	if err := chromedp.Do(ctx, chromedp.Navigate(outer.URL)); err != nil {
		t.Fatal(err)
	}
	if focused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.hasFocus()`)); err != nil || !focused {
		t.Fatalf("the tab has no focus before anything was typed (%v): keys sent into a frame may lose their field", err)
	}
	frame := browsertest.Frame(t, ctx, frameURL, 10*time.Second)
	browsertest.Type(t, frame, "#payment", "pay_6dWDN0kA5QW2hm", 5*time.Second)
	browsertest.Type(t, frame, "#payment", "X", 5*time.Second)
	got, err := chromedp.Run(frame, chromedp.Evaluate[string](`document.getElementById("payment").value`))
	if err != nil || got != "pay_6dWDN0kA5QW2hmX" {
		t.Fatalf("the field holds %q (%v)", got, err)
	}
	browsertest.WaitFor(t, ctx, `document.activeElement.tagName === "IFRAME"`, "the parent's focus on the frame", 5*time.Second)
}
