package server_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestBrowserBuySpendDecline is the member's whole loop in real Chromium,
// through the sandbox's parent page: the app in a cross-origin iframe, the
// official iframe SDK on both sides, the purchase modal, the webhook.
func TestBrowserBuySpendDecline(t *testing.T) {
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentDelay = 300 * time.Millisecond }))
	ctx := browsertest.New(t, browsertest.WithWindowSize(1100, 900))
	user := a.member(0)
	parent := a.env.URL + "/?path=" + url.QueryEscape("/experiences/"+a.experience()) + "&user=" + user
	if err := chromedp.Do(ctx, chromedp.Navigate(parent)); err != nil {
		t.Fatal(err)
	}
	frame := browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "0", 10*time.Second)

	// Buy the starter package: the parent's modal opens, we pay.
	waitForModal(t, frame)
	click(t, frame, `[data-testid="buy-starter"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$4.99", 10*time.Second)
	click(t, ctx, `[data-testid="whopsim-pay"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Added 100 credits. Your balance is 100.", 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "100", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="receipts"]`, "Paid", 5*time.Second)

	// Spend on a sticker pack.
	click(t, frame, `[data-testid="spend-sticker"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Spent 5 credits. Your balance is 95.", 10*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "95", 5*time.Second)

	// Decline a purchase: a message, and nothing changes.
	click(t, frame, `[data-testid="buy-pro"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$24.99", 10*time.Second)
	click(t, ctx, `[data-testid="whopsim-decline"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Your payment was declined: Your card was declined. You were not charged", 15*time.Second)
	a.settle()
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "95", 5*time.Second)
	if b := a.balance(user); b != 95 {
		t.Fatalf("balance in the database = %d, want 95", b)
	}
	if errs := browsertest.ConsoleErrors(frame); len(errs) > 0 {
		t.Errorf("console errors in the app: %v", errs)
	}
	browsertest.Screenshot(t, ctx, "final")
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	browsertest.Click(t, ctx, sel, 10*time.Second)
}

// waitForModal waits until the experience page has heard Whop's parent
// answer and so offers its purchase modal. A Buy clicked before that waits
// up to 1.5 s for the answer and, on a loaded machine, may get none in time
// and send the member to Whop's checkout page instead: right for a member
// outside Whop, wrong for a test of the modal.
func waitForModal(t *testing.T, frame context.Context) {
	t.Helper()
	browsertest.WaitFor(t, frame, `document.querySelector('[data-testid="experience"]')?.dataset.checkout === "modal"`,
		"the page offering Whop's purchase modal", 10*time.Second)
}
