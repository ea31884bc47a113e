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

// TestBrowserReceiptsHistoryAndDeclines is what a member sees being true,
// in real Chromium through the sandbox: a declined card and a closed modal
// each say what happened (Whop's reason for the decline); receipts show
// only what reached the wallet (nothing for the unpaid purchases, what was
// credited and what was taken back for the refunded one); the activity
// page is the ledger, newest first with the running balance, its top
// balance the newest one.
func TestBrowserReceiptsHistoryAndDeclines(t *testing.T) {
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentDelay = 300 * time.Millisecond }))
	ctx := browsertest.New(t, browsertest.WithWindowSize(1280, 900))
	user, exp := a.member(0), a.experience()
	parent := a.env.URL + "/?path=" + url.QueryEscape("/experiences/"+exp) + "&user=" + user
	run(t, ctx, chromedp.Navigate(parent))
	frame := browsertest.Frame(t, ctx, a.env.RelayURL, 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "0", 10*time.Second)

	// Pay for the starter package, spend 5.
	waitForModal(t, frame)
	click(t, frame, `[data-testid="buy-starter"]`)
	click(t, ctx, `[data-testid="whopsim-pay"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Added 100 credits. Your balance is 100.", 15*time.Second)
	click(t, frame, `[data-testid="spend-sticker"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Spent 5 credits. Your balance is 95.", 10*time.Second)

	// A declined card: the page says so, with Whop's reason.
	click(t, frame, `[data-testid="buy-pro"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$24.99", 10*time.Second)
	click(t, ctx, `[data-testid="whopsim-decline"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`,
		"Your payment was declined: Your card was declined. You were not charged; you can try again with another card.", 15*time.Second)
	shotMember(t, ctx, frame, "declined", `[data-testid="notice"]`)

	// The modal closed without paying: the page says that instead.
	click(t, frame, `[data-testid="buy-pro"]`)
	browsertest.WaitText(t, ctx, `[data-testid="whopsim-checkout-price"]`, "$24.99", 10*time.Second)
	click(t, ctx, `[data-testid="whopsim-close"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`,
		"You closed the checkout. You were not charged and your balance is unchanged.", 15*time.Second)
	a.settle()
	if b := a.balance(user); b != 95 {
		t.Fatalf("balance = %d, want 95", b)
	}

	// Whop refunds the starter payment in full: its 100 credits go back.
	var starter, declined, closed, starterPay string
	if err := a.db.Pool.QueryRow(a.ctx, `SELECT
		(SELECT id FROM purchases WHERE user_id = $1 AND status = 'paid'),
		(SELECT payment_id FROM purchases WHERE user_id = $1 AND status = 'paid'),
		(SELECT id FROM purchases WHERE user_id = $1 AND status = 'failed'),
		(SELECT id FROM purchases WHERE user_id = $1 AND status = 'pending')`, user).Scan(&starter, &starterPay, &declined, &closed); err != nil {
		t.Fatalf("the three purchases (paid, failed, pending): %v", err)
	}
	if err := a.sim.Refund(starterPay, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != -5 {
		t.Fatalf("balance after the refund = %d, want -5", b)
	}

	// Receipts: what reached the wallet, nothing more.
	run(t, frame, chromedp.Navigate(a.env.RelayURL+"/experiences/"+exp))
	receipts := browsertest.WaitText(t, frame, `[data-testid="receipts"]`, "taken back", 10*time.Second)
	if strings.Contains(receipts, "+600") {
		t.Errorf("receipts credit 600 credits that never arrived: %q", receipts)
	}
	// A row's cells, by place: when, package, credits, paid, status.
	for id, want := range map[string][3]string{
		starter:  {"+100 −100 taken back", "$4.99 $4.99 refunded", "Refunded"},
		declined: {"—", "— $24.99, not charged", "Failed"},
		closed:   {"—", "— $24.99, no payment credited", "Not paid"},
	} {
		row := `[data-testid="receipt-` + id + `"]`
		if got := text(t, frame, row+` td:nth-child(3)`); got != want[0] {
			t.Errorf("receipt %s credits = %q, want %q", id, got, want[0])
		}
		if got := text(t, frame, row+` td:nth-child(4)`); got != want[1] {
			t.Errorf("receipt %s paid = %q, want %q", id, got, want[1])
		}
		if got := text(t, frame, row+` td:nth-child(5) .badge`); got != want[2] {
			t.Errorf("receipt %s status = %q, want %q", id, got, want[2])
		}
	}
	shotMember(t, ctx, frame, "receipts", `[data-testid="receipts"]`)

	// The activity page, reached by a plain link.
	click(t, frame, `[data-testid="activity-link"]`)
	browsertest.WaitText(t, frame, `[data-testid="activity-entries"]`, "refunded", 10*time.Second)
	rows, err := chromedp.Run(frame, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('[data-testid="activity-entries"] tbody tr')]
		.map(tr => [tr.children[1].firstChild.textContent.trim(), tr.children[2].textContent.trim(), tr.children[3].textContent.trim()])`))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Taken back: the starter purchase was refunded", "−100", "−5"},
		{"Spent on Sticker pack", "−5", "95"},
		{"Bought the starter package", "+100", "100"},
	}
	if len(rows) != len(want) {
		t.Fatalf("activity rows = %q, want %q", rows, want)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("activity row %d = %q, want %q", i, rows[i], want[i])
		}
	}
	if top := text(t, frame, `[data-testid="balance"]`); top != rows[0][2] {
		t.Errorf("balance at the top = %q, newest running balance = %q", top, rows[0][2])
	}
	shotMember(t, ctx, frame, "activity", "")
	click(t, frame, `[data-testid="activity-back"]`)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "−5", 10*time.Second)
}

// text is an element's text, trimmed and with its whitespace collapsed.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = document.querySelector(`+"`"+sel+"`"+`);
		return e ? e.textContent.replace(/\s+/g, " ").trim() : "<none>"; })()`))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// shotMember saves the page at 1280 and 375 px wide, light and dark, with
// the frame scrolled to sel (the top when it is "").
func shotMember(t *testing.T, ctx, frame context.Context, name, sel string) {
	t.Helper()
	scroll := `window.scrollTo(0, 0)`
	if sel != "" {
		scroll = `document.querySelector(` + "`" + sel + "`" + `).scrollIntoView({block: "center"})`
	}
	for _, dark := range []bool{false, true} {
		theme := "light"
		if dark {
			theme = "dark"
		}
		run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { localStorage.setItem("whopsim-theme", "`+theme+`");
			if (document.documentElement.dataset.theme !== "`+theme+`") document.getElementById("whopsim-theme").click(); })()`))
		for _, w := range []int64{1280, 375} {
			run(t, ctx, chromedp.EmulateViewport(w, 900))
			time.Sleep(300 * time.Millisecond) // the frame lays out again
			run(t, frame, chromedp.Evaluate[chromedp.Void](scroll))
			time.Sleep(300 * time.Millisecond)
			browsertest.Screenshot(t, ctx, name+"-"+theme+"-"+map[int64]string{1280: "1280", 375: "375"}[w])
		}
	}
	run(t, ctx, chromedp.EmulateViewport(1280, 900))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { if (document.documentElement.dataset.theme !== "light") document.getElementById("whopsim-theme").click(); })()`))
}
