package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
)

// TestBrowserPagesLoadCleanInTheSandbox opens each page through the
// sandbox with the parent and the app on one site, as make dev runs them
// (and as whop.com and *.apps.whop.com are): Chrome then keeps the frame in
// the parent's process and logs, in the parent's console, every message the
// iframe SDK posts to an origin that is not its parent's. The SDK posts each
// message once per origin it may talk to; each page must still load without
// a single warning or error.
func TestBrowserPagesLoadCleanInTheSandbox(t *testing.T) {
	a := setup(t, sameSite())
	exp, creator := a.experience(), a.env.Seed.Creator.ID
	member, admin := a.member(0), a.env.Seed.Admin.ID
	a.buyIn(exp, member, "starter")
	ctx := browsertest.New(t, browsertest.WithWindowSize(1100, 900))
	for _, p := range []struct{ path, user string }{
		{"/experiences/" + exp, member},
		{"/experiences/" + exp + "/activity", member},
		{"/dashboard/" + creator, admin},
		{"/discover", member},
	} {
		seen := len(a.sim.Messages())
		parent := a.env.URL + "/?path=" + url.QueryEscape(p.path) + "&user=" + p.user
		if err := chromedp.Do(ctx, chromedp.Navigate(parent)); err != nil {
			t.Fatal(err)
		}
		// The page has talked to its parent through the SDK: it reported
		// its address and its ping was answered.
		waitMessages(t, a, seen, map[string]string{"onHrefChange": a.env.RelayURL + p.path, "ping": ""})
		time.Sleep(300 * time.Millisecond) // what the page posts next, and its warnings, arrive too
		if problems := browsertest.ConsoleProblems(ctx); len(problems) > 0 {
			t.Fatalf("%s: %d console warnings or errors:\n  %s", p.path, len(problems), strings.Join(problems, "\n  "))
		}
	}
}

// waitMessages waits until the parent page has answered, after the first
// seen messages, each method in want (whose data contains the given text).
func waitMessages(t *testing.T, a *app, seen int, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := map[string]bool{}
		msgs := a.sim.Messages()
		for _, m := range msgs[min(seen, len(msgs)):] {
			if text, ok := want[m.Method]; ok && strings.Contains(string(m.Data), text) {
				got[m.Method] = true
			}
		}
		if len(got) == len(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the parent answered %v of %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
