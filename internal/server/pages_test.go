package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// get fetches a page as user through the app directly (the relay is for
// browser tests), returning the response and its body.
func (a *app) get(path, user string) (*http.Response, string) {
	a.t.Helper()
	return a.getAt(a.url, path, user)
}

// getAt is get against another instance of the app (see replica).
func (a *app) getAt(base, path, user string) (*http.Response, string) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if user != "" {
		tok, err := a.sim.Token(user)
		if err != nil {
			a.t.Fatal(err)
		}
		req.Header.Set(whop.HeaderUserToken, tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestExperiencePageShowsWalletPackagesItemsAndReceipts(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	res, body := a.get("/experiences/"+a.experience(), user)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	assertHTMLFraming(t, res, a.env.URL)
	for _, want := range []string{
		`data-testid="balance">0<`, `data-testid="no-receipts"`,
		`data-testid="buy-starter">Buy for $4.99<`, `data-testid="buy-pro">Buy for $24.99<`,
		`5.0¢ a credit`, `4.2¢ a credit`,
		`data-testid="item-sticker"`, `data-testid="item-boost"`, `data-testid="item-review"`,
		`data-experience-id="` + a.experience() + `"`, `data-app-id="` + a.env.Seed.App.ID + `"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}

	ch, plan, pur := a.charge(user, "pro")
	a.pay(ch, plan, user)
	a.settle()
	_, _, pending := a.charge(user, "starter")
	_, body = a.get("/experiences/"+a.experience(), user)
	if !strings.Contains(body, `data-testid="balance">600<`) {
		t.Error("page after purchase lacks the balance of 600")
	}
	// A receipt row carries one test id, its own: none of its cells repeat
	// the purchase id for tests.
	for _, cell := range []string{`data-testid="credits-`, `data-testid="paid-`, `data-testid="status-`, `data-testid=""`} {
		if strings.Contains(body, cell) {
			t.Errorf("member page still writes %s", cell)
		}
	}
	// Each receipt row's cells: when, package (with the date again for
	// narrow screens), credits, paid, status.
	p := parsePage(t, body)
	for id, want := range map[string][]string{
		pur:     {"pro", "+600", "$24.99", "Paid"},
		pending: {"starter", "—", "— $4.99, no payment credited", "Not paid"},
	} {
		got := p.cells("receipt-" + id)
		if len(got) != 5 || !strings.HasPrefix(got[1], want[0]) || got[2] != want[1] || got[3] != want[2] || got[4] != want[3] {
			t.Errorf("receipt %s: cells %q, want package %q, then %q", id, got, want[0], want[1:])
		}
	}
	if strings.Index(body, pending) > strings.Index(body, pur) {
		t.Error("receipts are not newest first")
	}
}

func TestExperiencePageAccess(t *testing.T) {
	a := setup(t)
	tests := []struct {
		name, user string
		status     int
		text       string
	}{
		{"member", a.member(0), 200, `data-testid="experience"`},
		{"admin of the company", a.env.Seed.Admin.ID, 200, `data-testid="experience"`},
		{"no access", a.env.Seed.NoAccess.ID, 403, "You need access to Credits"},
		{"no token", "", 401, "Open this app from Whop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := a.get("/experiences/"+a.experience(), tt.user)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.text) {
				t.Fatalf("status %d, want %d with %q", res.StatusCode, tt.status, tt.text)
			}
			assertHTMLFraming(t, res, a.env.URL)
		})
	}
	// A token the sandbox signed for another app is refused.
	req, _ := http.NewRequest(http.MethodGet, a.url+"/experiences/"+a.experience(), nil)
	req.Header.Set(whop.HeaderUserToken, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyX3gifQ.")
	res, _ := http.DefaultClient.Do(req)
	if res.StatusCode != 401 {
		t.Fatalf("alg none token = %d, want 401", res.StatusCode)
	}
}

func TestBrowserPostsFromOtherSitesAreRefused(t *testing.T) {
	a := setup(t)
	send := func(origin, site string) int {
		req, _ := http.NewRequest(http.MethodPost, a.url+"/api/charge", strings.NewReader(`{"experience_id":"`+a.experience()+`","package":"starter"}`))
		tok, _ := a.sim.Token(a.member(0))
		req.Header.Set(whop.HeaderUserToken, tok)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	tests := []struct {
		origin, site string
		want         int
	}{
		{"https://evil.example", "cross-site", 403},
		{"https://evil.apps.whop.com.example", "cross-site", 403},
		{"http://x.apps.whop.com", "cross-site", 403}, // Whop's app origins are https only
		{"null", "cross-site", 403},
		{"https://abc123.apps.whop.com", "same-site", 200},
		{a.env.RelayURL, "same-site", 200},
		{"", "same-origin", 200},
		{a.url, "", 200},
		{"", "", 200}, // not a browser: the token alone decides
	}
	for _, tt := range tests {
		if got := send(tt.origin, tt.site); got != tt.want {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: %d, want %d", tt.origin, tt.site, got, tt.want)
		}
	}
}

func assertHTMLFraming(t *testing.T, res *http.Response, sandboxOrigin string) {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors https://whop.com https://*.whop.com "+sandboxOrigin) {
		t.Errorf("CSP = %q", csp)
	}
	if _, ok := res.Header["X-Frame-Options"]; ok {
		t.Error("X-Frame-Options must be absent")
	}
	if res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", res.Header.Get("Content-Type"))
	}
}

// TestNoAccessPage: a user without access is told what they need and where
// to get it, from what Whop says about the experience; when Whop cannot
// say, the page still says what is missing, without a link.
func TestNoAccessPage(t *testing.T) {
	a := setup(t)
	nina, exp := a.env.Seed.NoAccess.ID, a.experience()
	for _, path := range []string{"/experiences/" + exp, "/experiences/" + exp + "/activity", "/experiences/" + exp + "/premium"} {
		res, body := a.get(path, nina)
		if res.StatusCode != 403 {
			t.Fatalf("%s: %d, want 403", path, res.StatusCode)
		}
		pg := parsePage(t, body)
		for id, want := range map[string]string{
			"error-title":   "You need access to Credits",
			"error-message": "It comes with Pixel Guild's membership. Join on Whop, then come back here.",
			"get-access":    "Get Pixel Guild Community on Whop",
		} {
			if got := pg.text(id); got != want {
				t.Errorf("%s: %s = %q, want %q", path, id, got, want)
			}
		}
		if href := pg.attr("get-access", "href"); href != "https://whop.com/discover/pixel-guild-community/?app="+a.env.Seed.App.ID {
			t.Errorf("%s: link to %q", path, href)
		}
		assertHTMLFraming(t, res, a.env.URL)
	}
	// Whop down: the access answer is cached, the experience is not.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 1 })
	defer a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 0 })
	res, body := a.get("/experiences/"+exp, nina)
	if res.StatusCode != 403 {
		t.Fatalf("with Whop down: %d, want 403", res.StatusCode)
	}
	pg := parsePage(t, body)
	if got := pg.text("error-title"); got != "You need access to this experience" {
		t.Errorf("title with Whop down = %q", got)
	}
	if got := pg.text("error-message"); got != "Your Whop account does not have access to this. Ask the community's owner how to join, then open it again from Whop." {
		t.Errorf("message with Whop down = %q", got)
	}
	if pg.has("get-access") {
		t.Error("a link to get access, with nothing known to link to")
	}
	// An API is answered in JSON, as before.
	if code, out, _ := a.call("POST", "/api/spend", nina, map[string]string{"experience_id": exp, "item": "sticker", "idempotency_key": "k"}); code != 403 ||
		out["error"].(map[string]any)["code"] != "forbidden" {
		t.Errorf("spend without access: %d %v", code, out)
	}
}
