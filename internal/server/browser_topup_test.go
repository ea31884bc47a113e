package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
)

// TestBrowserAutoTopUpAndTheBell: in real Chromium, framed by the sandbox,
// a member saves a card in Whop's modal (a setup checkout: nothing is
// charged), sets a rule (below 50, buy the starter package, 3 a day) and
// opts in to notifications, then spends below the threshold: the top-up
// is charged off-session, its credits arrive on the page, and the
// sandbox's bell shows the notification Whop was asked to send.
func TestBrowserAutoTopUpAndTheBell(t *testing.T) {
	a := setup(t)
	exp, alice := a.experience(), a.member(0)
	a.buyIn(exp, alice, "starter") // 100 credits

	ctx := browsertest.New(t, browsertest.WithWindowSize(1280, 900))
	run(t, ctx, chromedp.Navigate(a.env.URL+"/?path="+url.QueryEscape("/experiences/"+exp)+"&user="+alice))
	frame := browsertest.Frame(t, ctx, a.env.RelayURL+"/experiences/", 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "100", 10*time.Second)
	waitForModal(t, frame)
	click(t, frame, `[data-testid="autotopup-link"]`)
	browsertest.WaitText(t, frame, `[data-testid="no-card"]`, "No card saved", 10*time.Second)
	// Each notification choice is a small checkbox at the start of its
	// label's one line, not a full-width field above its text.
	boxes, err := chromedp.Run(frame, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="alerts-form"] label.check')].map(l => {
		const b = l.querySelector('input[type="checkbox"]').getBoundingClientRect(), r = l.getBoundingClientRect();
		return [b.width, b.height, b.left - r.left, r.height].map(Math.round).join(" "); })`))
	if err != nil || len(boxes) != 4 {
		t.Fatalf("notification checkboxes: %q (%v), want 4", boxes, err)
	}
	for _, box := range boxes {
		var w, h, left, line int
		if _, err := fmt.Sscan(box, &w, &h, &left, &line); err != nil || w > 24 || h > 24 || left > 2 || line > 32 {
			t.Errorf("a notification checkbox is %d×%d px, %d px into its label of height %d; want at most 24×24 at its start, on one line", w, h, left, line)
		}
	}

	// The declining test card saves nothing, and the page says why.
	click(t, frame, `[data-testid="save-card"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-title"]`, "Save a payment method", 10*time.Second)
	run(t, ctx, chromedp.SetValue(chromedp.CSS(`[data-testid="whopsim-card"]`), "4000000000000002"))
	click(t, ctx, `[data-testid="whopsim-pay"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "No card was saved: Your card was declined.", 10*time.Second)

	// Save a card in Whop's modal: it offers the test cards, charges nothing.
	click(t, frame, `[data-testid="save-card"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-title"]`, "Save a payment method", 10*time.Second)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "No charge now", 5*time.Second)
	run(t, ctx, chromedp.SetValue(chromedp.CSS(`[data-testid="whopsim-card"]`), "4242424242424242"))
	click(t, ctx, `[data-testid="whopsim-pay"]`)
	browsertest.WaitText(t, frame, `[data-testid="saved-card"]`, "Saved card: visa •••• 4242", 15*time.Second)
	if n := a.count(`SELECT count(*) FROM topup_methods WHERE member_id LIKE 'mber\_%' AND payment_method_id LIKE 'payt\_%' AND card_last4 = '4242'`); n != 1 {
		t.Fatalf("saved methods = %d", n)
	}

	// The rule, and the notifications.
	run(t, frame, chromedp.SetValue(chromedp.CSS(`#rule-threshold`), "50"), chromedp.SetValue(chromedp.CSS(`#rule-limit`), "3"))
	click(t, frame, `[data-testid="rule-submit"]`)
	browsertest.WaitText(t, frame, `[data-testid="autotopup-message"]`, "Rule saved.", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="topup-rule"]`,
		"When a spend takes your balance below 50 credits, buy 100 credits for $4.99, at most 3 a UTC day (declined ones count).", 5*time.Second)
	click(t, frame, `[data-testid="alert-credited"]`)
	click(t, frame, `[data-testid="alert-topup-failed"]`)
	click(t, frame, `[data-testid="alerts-submit"]`)
	browsertest.WaitText(t, frame, `[data-testid="autotopup-message"]`, "Notifications saved.", 10*time.Second)

	// Spend below the threshold: 100 - 50 - 5 = 45.
	click(t, frame, `[data-testid="autotopup-back"]`)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "100", 10*time.Second)
	click(t, frame, `[data-testid="spend-review"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Spent 50 credits. Your balance is 50.", 10*time.Second)
	if n := a.count(`SELECT count(*) FROM topups`); n != 0 {
		t.Fatalf("top-ups at 50 (not below) = %d", n)
	}
	click(t, frame, `[data-testid="spend-sticker"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Spent 5 credits. Your balance is 45.", 10*time.Second)
	if n := a.count(`SELECT count(*) FROM topups WHERE status = 'scheduled'`); n != 1 {
		t.Fatalf("scheduled top-ups = %d", n)
	}
	a.drain() // the charge job, then the notification's
	a.settle()
	if b := a.balance(alice); b != 145 {
		t.Fatalf("balance after the top-up = %d, want 145", b)
	}
	click(t, frame, `[data-testid="autotopup-link"]`)
	browsertest.WaitText(t, frame, `[data-testid="topup-status"]`, "paid", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="topup-what"]`, "100 credits for $4.99", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "145", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="notices"]`, "Your credits arrived", 5*time.Second)
	shotMember(t, ctx, frame, "autotopup", "")
	shotMember(t, ctx, frame, "autotopup-notifications", `[data-testid="alerts-form"]`)

	// The bell on Whop's side shows what the app sent, and opens its link.
	click(t, ctx, `[data-testid="whopsim-bell"]`)
	panel := browsertest.WaitText(t, ctx, `[data-testid="whopsim-bell-panel"]`, "Your credits arrived", 10*time.Second)
	if !strings.Contains(panel, "100 credits landed in your wallet; your balance is 145.") ||
		!strings.Contains(panel, "/experiences/"+exp+"/activity") {
		t.Fatalf("bell = %q", panel)
	}
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-bell-count"]`, "1", 5*time.Second)
	click(t, ctx, `[data-testid="whopsim-notification"]`)
	frame = browsertest.Frame(t, ctx, a.env.RelayURL+"/experiences/"+exp+"/activity", 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="activity-entries"]`, "+100", 10*time.Second)

	// "Remove rule" sits beside "Save rule" but submits its own form.
	click(t, frame, `[data-testid="activity-back"]`)
	click(t, frame, `[data-testid="autotopup-link"]`)
	click(t, frame, `[data-testid="rule-remove"]`)
	browsertest.WaitText(t, frame, `[data-testid="autotopup-message"]`, "Rule removed.", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="no-rule"]`, "No rule set.", 5*time.Second)
	if n := a.count(`SELECT count(*) FROM topup_rules`); n != 0 {
		t.Errorf("rules after removing = %d", n)
	}
	if errs := browsertest.ConsoleErrors(frame); len(errs) > 0 {
		t.Errorf("console errors in the app: %v", errs)
	}
}
