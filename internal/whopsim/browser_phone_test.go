package whopsim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditkit/creditkit/internal/testkit/browsertest"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// TestBrowserParentPageOnAPhone: at 375 px the sandbox's page stays usable:
// nothing in its top bar is cut off, the app gets the width, the ☰ menu
// opens the views and the user switcher, switching users reloads the app
// as the new user, and the controls drawer fits the screen.
func TestBrowserParentPageOnAPhone(t *testing.T) {
	var env *whopsimtest.Env
	env = whopsimtest.Start(t, whopsimtest.Config{App: standInApp(t, &env), Options: whopsim.Options{PaymentDelay: -1}})
	alice, bob := env.Seed.Members[0].ID, env.Seed.Members[1].ID
	ctx := browsertest.New(t)
	// A headless window is never narrower than 500 px: emulate the phone.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 800)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/?user="+alice+"&path=/experiences/"+env.Seed.Creator.ExperienceID)); err != nil {
		t.Fatal(err)
	}
	frame := browsertest.Frame(t, ctx, env.RelayURL+"/experiences/", 15*time.Second)
	browsertest.WaitText(t, frame, "#who", "token verified for "+alice, 15*time.Second)

	// Every control of the top bar is whole and on screen.
	cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".topbar button, .topbar select")]
		.filter(e => e.offsetParent !== null)
		.filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth || e.scrollWidth > e.clientWidth + 1; })
		.map(e => e.dataset.testid || e.id)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) > 0 {
		t.Errorf("top bar controls cut off at 375 px: %v", cut)
	}
	frameWidth, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById("whopsim-frame").getBoundingClientRect().width`))
	if frameWidth < 375 {
		t.Errorf("the app's frame is %d px wide on a 375 px screen, want all of it", frameWidth)
	}
	browsertest.Screenshot(t, ctx, "375")

	// The user switcher is in the menu, on screen, and works.
	if w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`innerWidth`)); w != 375 {
		t.Fatalf("viewport is %d px wide, want 375", w)
	}
	if shown, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="whopsim-menu"]')?.offsetParent`)); !shown {
		t.Fatal("no menu button: the views and the user switcher are out of reach at 375 px")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="whopsim-menu"]`))); err != nil {
		t.Fatal(err)
	}
	inView, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector('[data-testid="whopsim-user"]');
		const r = e.getBoundingClientRect(); return e.offsetParent !== null && r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight && r.width > 100; })()`))
	if err != nil || !inView {
		t.Fatalf("the user switcher is not on screen after opening the menu (%v)", err)
	}
	browsertest.Screenshot(t, ctx, "375-menu")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`[data-testid="whopsim-user"]`), bob),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="whopsim-user"]').dispatchEvent(new Event("change"))`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for env.Sim.SelectedUser() != bob && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := env.Sim.SelectedUser(); got != bob {
		t.Fatalf("selected user = %s, want %s", got, bob)
	}
	frame = browsertest.Frame(t, ctx, env.RelayURL+"/experiences/", 15*time.Second)
	browsertest.WaitText(t, frame, "#who", "token verified for "+bob, 15*time.Second)
	open, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.classList.contains("menu-open")`))
	if open {
		t.Error("the menu stays open over the app after switching users")
	}

	// The sandbox's controls open within the screen.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="whopsim-controls-toggle"]`))); err != nil {
		t.Fatal(err)
	}
	fits, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const r = document.getElementById("whopsim-drawer").getBoundingClientRect();
		return r.width > 0 && r.left >= 0 && r.right <= innerWidth; })()`))
	if !fits {
		t.Error("the controls drawer does not fit a 375 px screen")
	}
	browsertest.Screenshot(t, ctx, "375-controls")
	if errs := browsertest.ConsoleErrors(frame); len(errs) > 0 {
		t.Errorf("console errors: %s", strings.Join(errs, "; "))
	}
}
