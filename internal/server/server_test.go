package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/migrations"
)

type readyFunc func(context.Context) error

func (f readyFunc) Ready(ctx context.Context) (migrations.Status, error) {
	return migrations.Status{}, f(ctx)
}

func newTestServer(t *testing.T, ready Readiness) *Server {
	t.Helper()
	return New(Deps{
		Settings: Settings{AppID: "app_test", Development: true, SandboxOrigins: []string{"http://localhost:8003"}},
		Ready:    ready,
	})
}

// TestProductionIgnoresSandboxOrigins: outside development only Whop may
// frame the app, whatever SANDBOX_ORIGINS says.
func TestProductionIgnoresSandboxOrigins(t *testing.T) {
	s := New(Deps{Settings: Settings{AppID: "app_test", SandboxOrigins: []string{"http://localhost:8003"}}})
	res, _ := get(t, s, "/discover")
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors https://whop.com https://*.whop.com;") && !strings.HasSuffix(csp, "frame-ancestors https://whop.com https://*.whop.com") {
		t.Fatalf("production CSP = %q, want frame-ancestors for Whop only", csp)
	}
	if strings.Contains(csp, "localhost") {
		t.Fatalf("production CSP trusts the sandbox: %q", csp)
	}
	// Nor does the page tell the iframe SDK to trust the sandbox's parent.
	_, body := get(t, s, "/discover")
	if !strings.Contains(body, `data-parent-origins="https://whop.com,https://dash.whop.com"`) || strings.Contains(body, "localhost") {
		t.Fatalf("production page names a development origin:\n%s", body)
	}
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestRequestIDEchoedWhenPlausible(t *testing.T) {
	s := newTestServer(t, nil)
	for in, keep := range map[string]bool{"abc-123_XYZ": true, "bad id with spaces": false, strings.Repeat("a", 65): false} {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Header.Set("X-Request-Id", in)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if got := rec.Header().Get("X-Request-Id"); (got == in) != keep || !keep && len(got) != 16 {
			t.Errorf("X-Request-Id for %q = %q (keep %t; else a fresh 16-digit id)", in, got, keep)
		}
	}
}

func TestDiscoverIsPublicWithFramingHeaders(t *testing.T) {
	s := newTestServer(t, nil)
	res, body := get(t, s, "/discover")
	if res.StatusCode != 200 || !strings.Contains(body, `data-testid="discover"`) || !strings.Contains(body, "Credits your members buy") {
		t.Fatalf("discover = %d", res.StatusCode)
	}
	assertFramingHeaders(t, res)
}

// assertFramingHeaders checks what every HTML page must carry for Whop's iframe.
func assertFramingHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors https://whop.com https://*.whop.com http://localhost:8003") {
		t.Errorf("CSP = %q, want frame-ancestors for Whop and the sandbox", csp)
	}
	if strings.Contains(csp, "frame-ancestors *") || strings.Contains(csp, "'unsafe-inline'") {
		t.Errorf("CSP too loose: %q", csp)
	}
	if v, ok := res.Header["X-Frame-Options"]; ok {
		t.Errorf("X-Frame-Options = %q; Whop's iframe needs it absent", v)
	}
	if len(res.Header.Get("X-Request-Id")) != 16 {
		t.Errorf("X-Request-Id = %q", res.Header.Get("X-Request-Id"))
	}
}

func TestPagesWithoutTokenAre401Pages(t *testing.T) {
	s := newTestServer(t, nil)
	for _, path := range []string{"/experiences/exp_abc", "/dashboard/biz_abc"} {
		res, body := get(t, s, path)
		if res.StatusCode != 401 || !strings.Contains(body, "Open this app from Whop") || !strings.Contains(body, `data-testid="error-page"`) {
			t.Errorf("%s without token = %d", path, res.StatusCode)
		}
		assertFramingHeaders(t, res)
	}
}

func TestNotFoundIsJSONUnderAPIAndHTMLElsewhere(t *testing.T) {
	s := newTestServer(t, nil)
	res, body := get(t, s, "/api/nope")
	if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
		strings.TrimSpace(body) != `{"error":{"code":"not_found","message":"There is nothing here."}}` {
		t.Fatalf("api 404 = %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	res, body = get(t, s, "/nope")
	if res.StatusCode != 404 || !strings.Contains(body, `data-testid="error-page"`) || !strings.Contains(body, "Error 404") {
		t.Fatalf("page 404 = %d %s", res.StatusCode, body)
	}
}

func TestPanicBecomes500Page(t *testing.T) {
	s := newTestServer(t, nil)
	h := withRequestID(s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	res, body := get(t, h, "/experiences/exp_1")
	if res.StatusCode != 500 || !strings.Contains(body, "Something went wrong on our side") || strings.Contains(body, "boom") {
		t.Fatalf("panic page = %d %s", res.StatusCode, body)
	}
	res, body = get(t, h, "/api/spend")
	if res.StatusCode != 500 || !strings.Contains(body, `"code":"internal"`) {
		t.Fatalf("panic api = %d %s", res.StatusCode, body)
	}
	// net/http's own abort is not an error to answer: it goes on up.
	abort := s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	func() {
		defer func() {
			if rec := recover(); rec != http.ErrAbortHandler {
				t.Errorf("ErrAbortHandler came out as %v, want it panicked again", rec)
			}
		}()
		get(t, abort, "/api/spend")
	}()
}

// TestBodyCap: a body declared too large is refused before the handler
// runs, one that turns out too large while read is refused by the error
// mapper, and both answers are the same.
func TestBodyCap(t *testing.T) {
	s := newTestServer(t, nil)
	h := limitBody(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	const tooLarge = `{"error":{"code":"body_too_large","message":"The request body is too large."}}`
	for _, tc := range []struct {
		body    string
		chunked bool
		want    int
		answer  string
	}{{"0123456789", false, 204, ""}, {"0123456789A", false, 413, tooLarge}, {"0123456789A", true, 413, tooLarge}} {
		req := httptest.NewRequest(http.MethodPost, "/api/x", strings.NewReader(tc.body))
		if tc.chunked {
			req.ContentLength = -1
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want || strings.TrimSpace(rec.Body.String()) != tc.answer {
			t.Errorf("body %q (chunked %t) = %d %s, want %d %s", tc.body, tc.chunked, rec.Code, rec.Body, tc.want, tc.answer)
		}
	}
}

func TestReadyzOnRealDatabase(t *testing.T) {
	db := pgtest.New(t)
	s := newTestServer(t, ledger.NewStore(db.Pool))
	app, river := migrations.Latest(), migrations.RiverLatest()
	res, body := get(t, s, "/readyz")
	want := fmt.Sprintf(`{"status":"ready","schema":{"version":%d,"latest":%d,"dirty":false,"river_version":%d,"river_latest":%d}}`,
		app, app, river, river)
	if res.StatusCode != 200 || strings.TrimSpace(body) != want || app == 0 || river == 0 {
		t.Fatalf("readyz on a migrated database = %d %s, want %s", res.StatusCode, body, want)
	}
	// A database one migration behind, the app's or River's, is not ready,
	// and the answer says which.
	for _, tc := range []struct{ behind, wantSchema string }{
		{"UPDATE schema_migrations SET version = version - 1",
			fmt.Sprintf(`{"version":%d,"latest":%d,"dirty":false,"river_version":%d,"river_latest":%d}`, app-1, app, river, river)},
		{"DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)",
			fmt.Sprintf(`{"version":%d,"latest":%d,"dirty":false,"river_version":%d,"river_latest":%d}`, app-1, app, river-1, river)},
	} {
		if _, err := db.Pool.Exec(context.Background(), tc.behind); err != nil {
			t.Fatal(err)
		}
		res, body = get(t, s, "/readyz")
		want := `{"status":"unavailable","error":"database schema is not at this binary's migration version","schema":` + tc.wantSchema + `}`
		if res.StatusCode != 503 || strings.TrimSpace(body) != want {
			t.Fatalf("readyz behind = %d %s, want %s", res.StatusCode, body, want)
		}
	}
	if _, err := db.Pool.Exec(context.Background(), "UPDATE schema_migrations SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	if res, body = get(t, s, "/readyz"); res.StatusCode != 503 || !strings.Contains(body, fmt.Sprintf(`"river_version":%d`, river-1)) {
		t.Fatalf("readyz with only River behind = %d %s", res.StatusCode, body)
	}
	db.Pool.Close()
	res, body = get(t, s, "/readyz")
	if res.StatusCode != 503 || strings.TrimSpace(body) != `{"status":"unavailable","error":"database unreachable"}` {
		t.Fatalf("readyz with a closed pool = %d %s", res.StatusCode, body)
	}
}

func TestHealthzAndMetricsCountRequests(t *testing.T) {
	s := newTestServer(t, readyFunc(func(context.Context) error { return nil }))
	if res, body := get(t, s, "/healthz"); res.StatusCode != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("healthz = %d %s", res.StatusCode, body)
	}
	get(t, s, "/discover")
	get(t, s, "/discover")
	get(t, s, "/experiences/exp_1") // no token: 401
	_, body := get(t, s, "/metrics")
	for _, want := range []string{
		`creditkit_http_requests_total{method="GET",route="/discover",status="200"} 2`,
		`creditkit_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`creditkit_http_requests_total{method="GET",route="/experiences/{experienceId}",status="401"} 1`,
		`creditkit_http_request_duration_seconds_count{method="GET",route="/discover",status="200"} 2`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestStaticAssetsCached(t *testing.T) {
	s := newTestServer(t, nil)
	res, body := get(t, s, "/static/js/app.js?v=abc")
	if res.StatusCode != 200 || !strings.Contains(body, "createSdk") {
		t.Fatalf("app.js = %d", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("versioned asset Cache-Control = %q", cc)
	}
}

// TestStaticFoldersAreNotListed: a folder of the assets is a 404, not a
// listing of its files (http.FileServer's), a file in it is served.
func TestStaticFoldersAreNotListed(t *testing.T) {
	s := newTestServer(t, nil)
	for _, path := range []string{"/static/", "/static/js/"} {
		res, body := get(t, s, path)
		if res.StatusCode != http.StatusNotFound || strings.Contains(body, `href="app.js"`) || strings.Contains(body, `href="js/"`) {
			t.Errorf("%s = %d %q, want 404 with no listing", path, res.StatusCode, body)
		}
	}
	if res, _ := get(t, s, "/static/js/app.js"); res.StatusCode != 200 {
		t.Errorf("a file = %d", res.StatusCode)
	}
}

// TestHeadIsAnsweredAsGet: a HEAD is answered with its GET's status and
// headers and no body, where it was a 405.
func TestHeadIsAnsweredAsGet(t *testing.T) {
	srv := httptest.NewServer(newTestServer(t, nil))
	t.Cleanup(srv.Close)
	for path, want := range map[string]int{"/healthz": 200, "/static/js/app.js": 200, "/nowhere": 404} {
		res, err := http.Head(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || len(body) != 0 {
			t.Errorf("HEAD %s = %d with %d bytes, want %d and none", path, res.StatusCode, len(body), want)
		}
	}
}

// TestCheckFieldsNamesTheFirstEmptyOne: blank counts as empty for a
// required field, and with several missing the answer names the first the
// handler listed.
func TestCheckFieldsNamesTheFirstEmptyOne(t *testing.T) {
	err := checkFields(field{"experience_id", "exp_1", true, kindExperience}, field{"item", " ", true, kindSlug},
		field{"package", "", true, kindSlug})
	if he, ok := err.(*httpError); !ok || he.status != http.StatusBadRequest || he.code != "missing_field" || he.message != "item is required." {
		t.Fatalf("two empty fields: %v", err)
	}
	if err := checkFields(field{"experience_id", "exp_1", true, kindExperience}, field{"package", "starter", true, kindSlug}); err != nil {
		t.Fatalf("all present: %v", err)
	}
}

// TestParentOrigins: pages tell the iframe SDK which origins may be their
// parent: Whop's in production (not the SDK's built-in localhost:8003),
// and the sandbox's too in development, whatever port it runs on.
func TestParentOrigins(t *testing.T) {
	prod := New(Deps{Settings: Settings{AppID: "app_test", SandboxOrigins: []string{"http://localhost:9003"}}})
	dev := New(Deps{Settings: Settings{AppID: "app_test", Development: true,
		SandboxOrigins: []string{"http://localhost:9003", "http://localhost:9004"}}})
	for _, tt := range []struct {
		s    *Server
		want string
	}{
		{prod, `data-parent-origins="https://whop.com,https://dash.whop.com"`},
		{dev, `data-parent-origins="https://whop.com,https://dash.whop.com,http://localhost:9003,http://localhost:9004"`},
	} {
		if _, body := get(t, tt.s, "/discover"); !strings.Contains(body, tt.want) {
			t.Errorf("discover page lacks %s", tt.want)
		}
	}
}
