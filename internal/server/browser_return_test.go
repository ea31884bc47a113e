package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestBrowserPayOnWhopOutsideTheFrame opens the experience on its own, at
// the relay's URL, as a member would from a bookmark: no Whop parent answers
// the SDK's ping, so the page offers Whop's checkout page. The member pays
// there and lands back on the purchase's return page with the new balance;
// then a declined card lands on the failed page.
func TestBrowserPayOnWhopOutsideTheFrame(t *testing.T) {
	// Payments stay unreadable for 2 s and webhooks are held, so the return
	// page first finds nothing and must keep checking until Whop shows it.
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentDelay = 2 * time.Second }))
	a.holdWebhooks()
	ctx := browsertest.New(t, browsertest.WithWindowSize(1100, 900))
	user := a.member(0)
	if err := a.sim.SelectUser(user); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.Navigate(a.env.RelayURL+"/experiences/"+a.experience()))
	browsertest.WaitText(t, ctx, `[data-testid="balance"]`, "0", 10*time.Second)
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="hosted-hint"]`)), chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="buy-starter"]`)))
	browsertest.WaitText(t, ctx, `[data-testid="pay-on-whop-starter"]`, "Pay $4.99 on Whop", 5*time.Second)
	browsertest.Screenshot(t, ctx, "1-experience-outside-whop")

	click(t, ctx, `[data-testid="pay-on-whop-starter"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$4.99", 10*time.Second)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-user"]`, "@alice", 5*time.Second)
	browsertest.Screenshot(t, ctx, "2-hosted-checkout")
	click(t, ctx, `[data-testid="whopsim-theme"]`)
	browsertest.Screenshot(t, ctx, "3-hosted-checkout-dark")
	click(t, ctx, `[data-testid="whopsim-pay"]`)

	// The way back lands in the sandbox's page, the app framed, as on Whop.
	frame := returnedInFrame(t, a, ctx)
	browsertest.WaitText(t, frame, `[data-testid="return-title"]`, "Payment received", 20*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "100", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="return-message"]`, "100 credits are in your wallet.", 5*time.Second)
	shot(t, ctx, "4-paid")
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance in the database = %d, want 100", b)
	}

	// Back to the experience, then a declined card.
	click(t, frame, `[data-testid="return-back"]`)
	browsertest.WaitText(t, frame, `[data-testid="receipts"]`, "Paid", 10*time.Second)
	click(t, frame, `[data-testid="pay-on-whop-pro"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$24.99", 10*time.Second)
	click(t, ctx, `[data-testid="whopsim-decline"]`)
	frame = returnedInFrame(t, a, ctx)
	browsertest.WaitText(t, frame, `[data-testid="return-title"]`, "The payment did not go through", 20*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="return-message"]`, "Your card was declined.", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "100", 5*time.Second)
	shot(t, ctx, "5-failed")

	a.releaseWebhooks()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after the webhooks = %d, want 100", b)
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// TestBrowserPayOnWhopFromInsideTheFrame takes the secondary link inside
// Whop's frame: the app, in a cross-site iframe, sends the whole window to
// Whop's checkout page (which needs the click's user activation), and the
// member comes back to the return page inside the parent page, framed, as
// on Whop.
func TestBrowserPayOnWhopFromInsideTheFrame(t *testing.T) {
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentDelay = 300 * time.Millisecond }))
	ctx := browsertest.New(t, browsertest.WithWindowSize(1100, 900))
	user := a.member(1)
	parent := a.env.URL + "/?path=" + url.QueryEscape("/experiences/"+a.experience()) + "&user=" + user
	run(t, ctx, chromedp.Navigate(parent))
	frame := browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "0", 10*time.Second)
	// The modal answers here, so Buy stays and "pay on Whop" is the secondary link.
	browsertest.WaitText(t, frame, `[data-testid="pay-on-whop-starter"]`, "or pay on Whop's checkout page", 5*time.Second)
	run(t, frame, chromedp.WaitVisible(chromedp.CSS(`[data-testid="buy-starter"]`)), chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="hosted-hint"]`)))
	browsertest.Screenshot(t, ctx, "1-in-frame")

	click(t, frame, `[data-testid="pay-on-whop-starter"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$4.99", 10*time.Second)
	if href := location(t, ctx); !strings.HasPrefix(href, a.env.URL+"/checkout/plan_") {
		t.Fatalf("the top window is at %s, want the sandbox's hosted checkout", href)
	}
	click(t, ctx, `[data-testid="whopsim-pay"]`)
	// Back inside the sandbox's page, framed, not on the app's own origin.
	frame = returnedInFrame(t, a, ctx)
	browsertest.WaitText(t, frame, `[data-testid="return-title"]`, "Payment received", 20*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "100", 5*time.Second)
	shot(t, ctx, "2-paid")
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance = %d, want 100", b)
	}
}

// TestBrowserReturnWhileWhopIsProcessing lands on the return page just
// before Whop shows the payment, which then stays pending with no webhook:
// the page shows its progress, then, titled "Still waiting for Whop", says
// the credits will follow (the server's latest word, not its first, which
// was that Whop showed no payment), no longer that it updates itself. When
// Whop settles it, the page shows the credits.
func TestBrowserReturnWhileWhopIsProcessing(t *testing.T) {
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentPendingFor = time.Hour }))
	a.holdWebhooks()
	ctx := browsertest.New(t, browsertest.WithWindowSize(900, 800))
	user := a.member(0)
	ch, plan, _ := landOnReturn(t, a, ctx, user)
	a.pay(ch, plan, user)
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="return-progress"]`)))
	time.Sleep(2 * time.Second) // let the bar move before the picture
	browsertest.Screenshot(t, ctx, "1-processing")
	// Twelve checks 1.5 s apart, then the page says the credits will follow.
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="return-slow"]`)), chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="return-progress"]`)))
	browsertest.WaitText(t, ctx, `[data-testid="return-slow"]`,
		"Whop is taking longer than usual. Your credits will arrive in your wallet", time.Second)
	browsertest.WaitText(t, ctx, `[data-testid="return-title"]`, "Still waiting for Whop", time.Second)
	run(t, ctx, chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="return-message"]`)))
	browsertest.Screenshot(t, ctx, "2-slow")

	a.releaseWebhooks() // Whop's payment.succeeded carries the paid payment
	run(t, ctx, chromedp.Reload())
	browsertest.WaitText(t, ctx, `[data-testid="return-title"]`, "Payment received", 10*time.Second)
	browsertest.WaitText(t, ctx, `[data-testid="balance"]`, "100", 5*time.Second)
}

// TestBrowserReturnWithoutPaying: a member back from Whop's checkout
// without having paid. The page checks for a while, as for a payment Whop
// has not shown yet, then, titled "No payment yet", says Whop shows no
// payment of theirs, that nothing was charged if they left, and that the
// credits follow if they did pay.
func TestBrowserReturnWithoutPaying(t *testing.T) {
	a := setup(t)
	ctx := browsertest.New(t, browsertest.WithWindowSize(390, 800))
	user := a.member(0)
	_, _, pur := landOnReturn(t, a, ctx, user)
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="return-slow"]`)), chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="return-progress"]`)))
	browsertest.WaitText(t, ctx, `[data-testid="return-slow"]`, view.NoPaymentYet, time.Second)
	browsertest.WaitText(t, ctx, `[data-testid="return-title"]`, "No payment yet", time.Second)
	run(t, ctx, chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="return-message"]`)))
	browsertest.Screenshot(t, ctx, "no-payment")
	if p := a.purchase(pur); p.Status != ledger.PurchasePending || a.balance(user) != 0 {
		t.Fatalf("purchase %s, balance %d: want pending, 0", p.Status, a.balance(user))
	}
}

// landOnReturn has user buy the starter package and open its return page
// before paying, as a member back from Whop's checkout lands there, and
// waits for the page to say it is confirming.
func landOnReturn(t *testing.T, a *app, ctx context.Context, user string) (checkoutID, planID, purchaseID string) {
	t.Helper()
	if err := a.sim.SelectUser(user); err != nil {
		t.Fatal(err)
	}
	checkoutID, planID, purchaseID = a.charge(user, "starter")
	run(t, ctx, chromedp.Navigate(a.env.RelayURL+"/purchases/"+purchaseID+"/return"))
	browsertest.WaitText(t, ctx, `[data-testid="return-title"]`, "Confirming your payment", 10*time.Second)
	return checkoutID, planID, purchaseID
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(cctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	href, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("browser: location: %v", err)
	}
	return href
}

// TestBrowserUpgradeOnWhopOutsideTheFrame: with no Whop parent to open the
// purchase modal, Upgrade sends the member to Whop's checkout page for the
// premium plan, and paying there brings them back to the experience, now
// premium.
func TestBrowserUpgradeOnWhopOutsideTheFrame(t *testing.T) {
	a := setup(t)
	ctx := browsertest.New(t, browsertest.WithWindowSize(1100, 900))
	user := a.member(0)
	if err := a.sim.SelectUser(user); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.Navigate(a.env.RelayURL+"/experiences/"+a.experience()))
	browsertest.WaitText(t, ctx, `[data-testid="premium-upgrade"]`, "Upgrade", 10*time.Second)
	click(t, ctx, `[data-testid="upgrade"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$9.99", 10*time.Second)
	click(t, ctx, `[data-testid="whopsim-pay"]`)
	want := a.env.URL + "/?path=" + url.QueryEscape("/experiences/"+a.experience()+"?upgrade=returned")
	for deadline := time.Now().Add(20 * time.Second); location(t, ctx) != want; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("landed on %s, want the sandbox's page framing the experience", location(t, ctx))
		}
	}
	frame := browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="premium-badge"]`, "Active", 20*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Premium unlocked", 5*time.Second)
	if href, _ := chromedp.Run(frame, chromedp.Location()); href != a.env.RelayURL+"/experiences/"+a.experience() {
		t.Errorf("the app is at %s, want the experience (the return marker removed from the address)", href)
	}
	shot(t, ctx, "premium")
}

// returnedInFrame waits until the hosted checkout has sent the member back
// to the sandbox's parent page with the app's return page framed, as Whop
// brings a buyer back to an app, and returns the frame.
func returnedInFrame(t *testing.T, a *app, ctx context.Context) context.Context {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		href := location(t, ctx)
		u, err := url.Parse(href)
		if err == nil && strings.HasPrefix(href, a.env.URL+"/?") {
			if p := u.Query().Get("path"); strings.HasPrefix(p, "/purchases/pur_") && strings.HasSuffix(p, "/return") {
				return browsertest.Frame(t, ctx, a.env.RelayURL+p, 15*time.Second)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("back from the hosted checkout at %s, want the sandbox's page framing /purchases/{id}/return", href)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
