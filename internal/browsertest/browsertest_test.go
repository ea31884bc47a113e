package browsertest_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditkit/creditkit/internal/browsertest"
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
