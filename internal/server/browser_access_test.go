package server_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
)

// TestBrowserNoAccessSaysHowToGetIt: a Whop user without access to the
// experience sees what they need and a link to the product that gives
// access on Whop, instead of a bare "Error 403"; /discover ends with a
// call to action.
func TestBrowserNoAccessSaysHowToGetIt(t *testing.T) {
	a := setup(t)
	exp, nina := a.experience(), a.env.Seed.NoAccess.ID
	ctx := browsertest.New(t, browsertest.WithWindowSize(1280, 900))
	// The 403 is the point; Chrome logs its status as an error.
	browsertest.AllowConsole(ctx, `Failed to load resource: the server responded with a status of 403 \(Forbidden\) \S+/experiences/`+exp+`$`)
	run(t, ctx, chromedp.Navigate(a.env.URL+"/?path="+url.QueryEscape("/experiences/"+exp)+"&user="+nina))
	frame := browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="error-title"]`, "You need access to Credits", 10*time.Second)
	if got := text(t, frame, `[data-testid="error-message"]`); got != "It comes with Pixel Guild's membership. Join on Whop, then come back here." {
		t.Errorf("message = %q", got)
	}
	link, err := chromedp.Run(frame, chromedp.Evaluate[[]string](`(() => { const a = document.querySelector('[data-testid="get-access"]');
		return a ? [a.textContent.trim(), a.href, a.target] : []; })()`))
	want := []string{"Get Pixel Guild Community on Whop", "https://whop.com/discover/pixel-guild-community/?app=" + a.env.Seed.App.ID, "_top"}
	if err != nil || len(link) != 3 || link[0] != want[0] || link[1] != want[1] || link[2] != want[2] {
		t.Errorf("access link = %q (%v), want %q", link, err, want)
	}
	shotMember(t, ctx, frame, "no-access", "")

	run(t, frame, chromedp.Navigate(a.env.RelayURL+"/discover"))
	browsertest.WaitText(t, frame, `[data-testid="discover-cta"]`, "Find a community on Whop", 10*time.Second)
	if href, _ := chromedp.Run(frame, chromedp.Evaluate[string](`document.querySelector('[data-testid="discover-cta"]').href`)); href != "https://whop.com/discover/" {
		t.Errorf("discover's call to action goes to %q", href)
	}
	shotMember(t, ctx, frame, "discover", `[data-testid="discover-cta"]`)
}
