package server_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestBrowserUpgradeUnlocksPremium is the upgrade in real Chromium through
// the sandbox's parent page: the upgrade card, Whop's purchase modal, the
// premium section unlocking without a reload, the lounge; then the parent's
// user switch to a member without premium (the upgrade card, and 403 on the
// lounge's URL typed by hand) and to a user without access (403).
func TestBrowserUpgradeUnlocksPremium(t *testing.T) {
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentDelay = 300 * time.Millisecond }))
	ctx := browsertest.New(t, browsertest.WithWindowSize(1100, 900))
	user, exp := a.member(0), a.experience()
	parent := a.env.URL + "/?path=" + url.QueryEscape("/experiences/"+exp) + "&user=" + user
	if err := chromedp.Do(ctx, chromedp.Navigate(parent)); err != nil {
		t.Fatal(err)
	}
	frame := browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="premium-upgrade"]`, "Upgrade to Premium", 10*time.Second)
	browsertest.Screenshot(t, ctx, "upgrade-card")

	waitForModal(t, frame)
	click(t, frame, `[data-testid="upgrade"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-title"]`, "Creditkit Premium", 10*time.Second)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$9.99", 5*time.Second)
	click(t, ctx, `[data-testid="whopsim-pay"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Premium unlocked. Welcome!", 25*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="premium-content"]`, "You're a premium member", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="premium-granted"]`, "This period's 50 credits were added", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "50", 5*time.Second)
	if present(t, frame, `[data-testid="upgrade"]`) {
		t.Fatal("the upgrade button is still shown to a premium member")
	}
	browsertest.Screenshot(t, ctx, "unlocked")
	// The iframe at a phone's width.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(420, 900)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "unlocked-narrow")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)); err != nil {
		t.Fatal(err)
	}
	// And in Whop's dark theme, which the parent sends the app.
	setTheme(t, ctx, frame, "dark")
	browsertest.Screenshot(t, ctx, "unlocked-dark")
	setTheme(t, ctx, frame, "light")

	click(t, frame, `[data-testid="premium-open"]`)
	browsertest.WaitText(t, frame, `[data-testid="premium-guides"]`, "Members-only guides", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="premium-lounge"]`, "Renews", 5*time.Second)
	browsertest.Screenshot(t, ctx, "lounge")
	if errs := browsertest.ConsoleErrors(frame); len(errs) > 0 {
		t.Errorf("console errors in the app: %v", errs)
	}

	// Another member, without premium: the parent's switch reloads the app.
	switchUser(t, a, ctx, a.member(1))
	frame = browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="premium-upgrade"]`, "Upgrade to Premium", 10*time.Second)
	if present(t, frame, `[data-testid="premium-content"]`) {
		t.Fatal("a member without premium sees the premium section")
	}
	browsertest.Screenshot(t, ctx, "other-member")
	// The lounge's URL typed by hand is refused. Chrome logs the 403 pages
	// this test opens on purpose as errors.
	browsertest.AllowConsole(ctx, `Failed to load resource: the server responded with a status of 403 \(Forbidden\) \S+/experiences/`+exp+`(/premium)?$`)
	if err := chromedp.Do(frame, chromedp.Navigate(a.env.RelayURL+"/experiences/"+exp+"/premium")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, frame, `[data-testid="error-title"]`, "Premium members only", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="error-status"]`, "403", 5*time.Second)
	browsertest.Screenshot(t, ctx, "lounge-403")

	// A user without access to the experience at all.
	switchUser(t, a, ctx, a.env.Seed.NoAccess.ID)
	frame = browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="error-status"]`, "403", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="error-title"]`, "You need access to Credits", 5*time.Second)
}

// switchUser picks a user in the parent page's switcher, as a person does,
// and returns once the app's frame has loaded again, as that user.
func switchUser(t *testing.T, a *app, ctx context.Context, userID string) {
	t.Helper()
	// The parent sees its frame's load events whatever the frame's origin:
	// counting them tells the reload's page from the one before it.
	js := fmt.Sprintf(`(() => { const f = document.getElementById("whopsim-frame");
		window.frameLoads = 0; f.addEventListener("load", () => { window.frameLoads++; });
		const s = document.querySelector('[data-testid="whopsim-user"]');
		s.value = %q; s.dispatchEvent(new Event("change")); return s.value; })()`, userID)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil || got != userID {
		t.Fatalf("switch user to %s: got %q, %v", userID, got, err)
	}
	// The switch posts to the sandbox, then reloads the frame.
	browsertest.WaitFor(t, ctx, `window.frameLoads > 0`, "the app reloading for "+userID, 15*time.Second)
	if got := a.sim.SelectedUser(); got != userID {
		t.Fatalf("the app reloaded with %s selected, want %s", got, userID)
	}
}

// setTheme presses the parent's theme switch, once, if the parent is not
// on theme already, then waits until the app shows it. The parent's theme
// decides whether to press: pressing again because the app was slow to
// follow would switch it back.
func setTheme(t *testing.T, ctx, frame context.Context, theme string) {
	t.Helper()
	parent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dataset.theme`))
	if err != nil {
		t.Fatalf("the parent's theme: %v", err)
	}
	if parent != theme {
		click(t, ctx, `[data-testid="whopsim-theme"]`)
	}
	check := fmt.Sprintf(`document.documentElement.classList.contains(%q)`, theme)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if on, _ := chromedp.Run(frame, chromedp.Evaluate[bool](check)); on {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the app never switched to the %s theme (the parent's was %q)", theme, parent)
}

// present reports whether the selector matches an element now.
func present(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, sel)))
	if err != nil {
		t.Fatalf("query %s: %v", sel, err)
	}
	return ok
}
