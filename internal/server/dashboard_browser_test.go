package server_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
)

// TestBrowserDashboard is the creator's dashboard in real Chromium, framed
// by the sandbox's parent page: look a payment up, send a payout and find
// it in the history, in light and dark and at the iframe's narrow widths;
// the owner's admin walks the same payment's refund confirmation and
// cancels it; then a member opening the dashboard gets the 403 page.
func TestBrowserDashboard(t *testing.T) {
	a := setup(t, withShare(1000))
	creator, admin := a.env.Seed.Creator.ID, a.env.Seed.Admin.ID
	_, pay := a.buyIn(a.experience(), a.member(0), "pro")
	a.buyIn(a.experience(), a.member(1), "starter")
	_, refunded := a.buyIn(a.experience(), a.member(1), "starter")
	if err := a.sim.Refund(refunded, 250); err != nil {
		t.Fatal(err)
	}
	a.settle()
	a.drain() // the revenue shares

	ctx := browsertest.New(t, browsertest.WithWindowSize(1200, 1000))
	open := func(company, user string) context.Context {
		t.Helper()
		parent := a.env.URL + "/?path=" + url.QueryEscape("/dashboard/"+company) + "&user=" + user
		if err := chromedp.Do(ctx, chromedp.Navigate(parent)); err != nil {
			t.Fatal(err)
		}
		return browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	}
	frame := open(creator, admin)
	browsertest.WaitText(t, frame, `[data-testid="company-title"]`, "Pixel Guild", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="stat-gross"]`, "$34.97", 5*time.Second)
	shot(t, ctx, "light")

	// Look the pro purchase's payment up.
	typeInto(t, frame, "#payment", pay)
	click(t, frame, `[data-testid="lookup-submit"]`)
	browsertest.WaitText(t, frame, `[data-testid="payment-id"]`, pay, 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="payment-total"]`, "$24.99", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="payment-revenue_share"]`, "$2.49 to "+creator+", paid", 5*time.Second)
	shot(t, ctx, "lookup")

	// Refunds are the owner's: the creator is told so instead of a button.
	browsertest.WaitText(t, frame, `[data-testid="refund-owner-only"]`, "Refunds are made by the app owner's admins", 5*time.Second)
	if n, err := chromedp.Run(frame, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="refund-start"]').length`)); err != nil || n != 0 {
		t.Fatalf("the creator is offered a refund: %d buttons, %v", n, err)
	}

	// Send a payout and find it in the history.
	typeInto(t, frame, "#recipient", "alice")
	typeInto(t, frame, "#amount", "12.50")
	typeInto(t, frame, "#notes", "Thanks for the artwork")
	click(t, frame, `[data-testid="payout-submit"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Sent $12.50 to @alice.", 10*time.Second)
	history := browsertest.WaitText(t, frame, `[data-testid="payout-history"]`, "@alice", 5*time.Second)
	if want := "Thanks for the artwork"; !strings.Contains(history, want) || !strings.Contains(history, "Paid") {
		t.Errorf("history = %q", history)
	}
	// 250 + shares 2.49 + 0.49 + 0.24 (the refunded sale's 0.49 less the 0.25 refunded before it was paid) - 12.75
	browsertest.WaitText(t, frame, `[data-testid="payout-balance"]`, "$240.47", 5*time.Second)
	shot(t, ctx, "payout")

	// Dark, then the narrow widths Whop's sidebar leaves the frame.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("whopsim-theme").click()`)); err != nil {
		t.Fatal(err)
	}
	waitDark(t, frame, true)
	if err := chromedp.Do(frame, chromedp.Evaluate[chromedp.Void](`document.getElementById("revenue").scrollIntoView()`)); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "dark")
	for _, width := range []int64{480, 380} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // let the frame lay out again
		shot(t, ctx, "narrow-dark-"+strconv.FormatInt(width, 10))
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("whopsim-theme").click()`)); err != nil {
		t.Fatal(err)
	}
	waitDark(t, frame, false)
	if err := chromedp.Do(frame, chromedp.Evaluate[chromedp.Void](`document.getElementById("payouts").scrollIntoView()`)); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "narrow-light-380")
	if errs := browsertest.ConsoleErrors(frame); len(errs) > 0 {
		t.Errorf("console errors in the app: %v", errs)
	}

	// A member of the community opening the dashboard is refused.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 1000)); err != nil {
		t.Fatal(err)
	}
	// The owner's admin looks the same payment up; Refund asks first, and
	// cancelling sends nothing.
	owner := open(a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID)
	typeInto(t, owner, "#payment", pay)
	click(t, owner, `[data-testid="lookup-submit"]`)
	browsertest.WaitText(t, owner, `[data-testid="payment-id"]`, pay, 10*time.Second)
	click(t, owner, `[data-testid="refund-start"]`)
	browsertest.WaitText(t, owner, `[data-testid="refund-paid"]`, "$24.99", 10*time.Second)
	shot(t, ctx, "refund-confirm")
	click(t, owner, `[data-testid="refund-cancel"]`)
	browsertest.WaitText(t, owner, `[data-testid="payment-refund_state"]`, "none", 10*time.Second)

	// The 403 page is the point here; Chrome logs its status as an error.
	browsertest.AllowConsole(ctx, `Failed to load resource: the server responded with a status of 403 \(Forbidden\) \S+/dashboard/`+creator+`$`)
	member := open(creator, a.member(0))
	browsertest.WaitText(t, member, `[data-testid="error-status"]`, "Error 403", 10*time.Second)
	browsertest.WaitText(t, member, `[data-testid="error-title"]`, "You don't have access", 5*time.Second)
	shot(t, ctx, "member-403")
}

func typeInto(t *testing.T, ctx context.Context, sel, text string) {
	t.Helper()
	browsertest.Type(t, ctx, sel, text, 10*time.Second)
}

func waitDark(t *testing.T, frame context.Context, dark bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := chromedp.Run(frame, chromedp.Evaluate[bool](`document.documentElement.classList.contains("dark")`))
		if err == nil && got == dark {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app's dark theme = %t, want %t", got, dark)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shot saves a screenshot once the frame has painted what the last
// navigation loaded: the frame is a process of its own, and its pixels
// reach the tab a moment after its document is ready.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	time.Sleep(400 * time.Millisecond)
	browsertest.Screenshot(t, ctx, name)
}

// TestBrowserRefusedPayoutShowsBesideTheForm: a payout the balance does not
// cover (amount plus fee) is refused, and the reason is shown where the
// admin is looking, beside the form at the bottom of a long page, with what
// they typed still in it.
func TestBrowserRefusedPayoutShowsBesideTheForm(t *testing.T) {
	a := setup(t)
	creator, admin := a.env.Seed.Creator.ID, a.env.Seed.Admin.ID
	for i := range 4 { // receipts and deliveries make the page long
		a.buyIn(a.experience(), a.member(i%2), "starter")
	}
	ctx := browsertest.New(t, browsertest.WithWindowSize(1280, 900))
	// The refusal is a 422 answer to the form; Chrome logs its status.
	browsertest.AllowConsole(ctx, `Failed to load resource: the server responded with a status of 422 \(Unprocessable Entity\) \S+/dashboard/`+creator+`/payouts(#payouts)?$`)
	run(t, ctx, chromedp.Navigate(a.env.URL+"/?path="+url.QueryEscape("/dashboard/"+creator)+"&user="+admin))
	frame := browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="payout-balance"]`, "$", 10*time.Second)
	typeInto(t, frame, "#recipient", "alice")
	typeInto(t, frame, "#amount", "99999.00")
	typeInto(t, frame, "#notes", "Too much")
	click(t, frame, `[data-testid="payout-submit"]`)
	browsertest.WaitText(t, frame, `[data-testid="payout-error"]`, "does not cover $99,999.00 plus the", 10*time.Second)
	// The answer's URL ends in #payouts: once the page has loaded, the
	// refusal is on screen, without scrolling.
	browsertest.WaitFor(t, frame, `document.readyState === "complete" && (() => {
		const r = document.querySelector('[data-testid="payout-error"]').getBoundingClientRect();
		return r.top >= 0 && r.bottom <= innerHeight; })()`, "the refusal on screen beside the form", 5*time.Second)
	kept, _ := chromedp.Run(frame, chromedp.Evaluate[[]string](`["#recipient", "#amount", "#notes"].map(s => document.querySelector(s).value)`))
	if strings.Join(kept, "|") != "alice|99999.00|Too much" {
		t.Errorf("the form after the refusal holds %q, want what was typed", kept)
	}
	if n := a.count(`SELECT count(*) FROM payouts`); n != 0 {
		t.Errorf("%d payouts recorded for a refused one", n)
	}
	shotMember(t, ctx, frame, "refused", `[data-testid="payout-error"]`)
}
