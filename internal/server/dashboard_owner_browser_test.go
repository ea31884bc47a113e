package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestBrowserOwnerDashboard: members buy through the purchase modal in a
// creator's experience and in the owner's own; the owner's admin sees the
// whole app (taken = both sales, the share paid, the net, one row per
// company) and books that match Whop; then a payment made at the sandbox
// whose webhook is lost, with no reconciler run, is named on that line.
// Screenshots at 1280 and 375 px, light and dark.
func TestBrowserOwnerDashboard(t *testing.T) {
	a := setup(t, withShare(1000))
	sd := a.env.Seed
	ctx := browsertest.New(t, browsertest.WithWindowSize(1280, 1000))
	open := func(path, user string) context.Context {
		t.Helper()
		parent := a.env.URL + "/?path=" + url.QueryEscape(path) + "&user=" + user
		if err := chromedp.Do(ctx, chromedp.Navigate(parent)); err != nil {
			t.Fatal(err)
		}
		return browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	}
	buy := func(exp, user, pkg, price, notice string) {
		t.Helper()
		frame := open("/experiences/"+exp, user)
		waitForModal(t, frame)
		click(t, frame, `[data-testid="buy-`+pkg+`"]`)
		browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, price, 10*time.Second)
		click(t, ctx, `[data-testid="whopsim-pay"]`)
		browsertest.WaitText(t, frame, `[data-testid="notice"]`, notice, 15*time.Second)
	}
	buy(sd.Creator.ExperienceID, a.member(0), "pro", "$24.99", "Added 600 credits.")
	buy(sd.Owner.ExperienceID, a.member(1), "starter", "$4.99", "Added 100 credits.")
	a.settle()
	a.drain() // the creator's share is paid

	frame := open("/dashboard/"+sd.Owner.ID, sd.OwnerAdmin.ID)
	browsertest.WaitText(t, frame, `[data-testid="dashboard-role"]`, "App owner dashboard", 10*time.Second)
	for sel, want := range map[string]string{
		`[data-testid="app-shares-paid"]`:               "$2.49",
		`[data-testid="app-net"]`:                       "$27.49",
		`[data-testid="company-` + sd.Creator.ID + `"]`: "Pixel Guild",
		`[data-testid="company-` + sd.Owner.ID + `"]`:   "Creditkit Labs (you)",
		`[data-testid="books-line"]`:                    "Our books match Whop: 2 payments on both sides, none on one side only.",
		`[data-testid="stat-gross"]`:                    "$29.98",
	} {
		browsertest.WaitText(t, frame, sel, want, 5*time.Second)
	}
	creatorRow := browsertest.WaitText(t, frame, `[data-testid="company-`+sd.Creator.ID+`"]`, "$24.99", 5*time.Second)
	if want := "$2.49"; !strings.Contains(creatorRow, want) {
		t.Errorf("creator row %q lacks the share %s", creatorRow, want)
	}
	shots := func(name string) {
		t.Helper()
		for _, dark := range []bool{false, true} {
			if dark {
				if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("whopsim-theme").click()`)); err != nil {
					t.Fatal(err)
				}
				waitDark(t, frame, true)
			}
			suffix := map[bool]string{false: "light", true: "dark"}[dark]
			for _, w := range []int64{1280, 375} {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 1000)); err != nil {
					t.Fatal(err)
				}
				time.Sleep(300 * time.Millisecond)
				shot(t, ctx, name+"-"+suffix+"-"+map[int64]string{1280: "1280", 375: "375"}[w])
			}
			if dark {
				if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("whopsim-theme").click()`)); err != nil {
					t.Fatal(err)
				}
				waitDark(t, frame, false)
			}
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	shots("owner")

	// A payment at the sandbox whose webhook never arrives; no reconciler.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 100 })
	ch, plan, _ := a.chargeIn(sd.Creator.ExperienceID, a.member(2), "starter")
	lost := a.pay(ch, plan, a.member(2))
	a.settle()
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 0 })
	frame = open("/dashboard/"+sd.Owner.ID, sd.OwnerAdmin.ID)
	browsertest.WaitText(t, frame, `[data-testid="books-line"]`, "2 payments on both sides; 1 at Whop only, 0 in our books only.", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="books-diff-`+lost+`"]`, lost+" at Whop only: $4.99", 5*time.Second)
	if err := chromedp.Do(frame, chromedp.Evaluate[chromedp.Void](`document.getElementById("app").scrollIntoView()`)); err != nil {
		t.Fatal(err)
	}
	shots("owner-books")
	if errs := browsertest.ConsoleErrors(frame); len(errs) > 0 {
		t.Errorf("console errors in the app: %v", errs)
	}
}
