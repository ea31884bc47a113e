package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// The return from Whop's hosted checkout: GET /purchases/{id}/return.

var (
	returnStatusRe = regexp.MustCompile(`data-return-status="([a-z]+)"`)
	balanceRe      = regexp.MustCompile(`data-testid="balance">([^<]*)<`)
)

// returnPage is the buyer coming back from Whop as user ("" for no token).
func (a *app) returnPage(purchaseID, user string) (code int, status, balance, html string) {
	a.t.Helper()
	code, _, html = a.call("GET", "/purchases/"+purchaseID+"/return", user, nil)
	if m := returnStatusRe.FindStringSubmatch(html); m != nil {
		status = m[1]
	}
	if m := balanceRe.FindStringSubmatch(html); m != nil {
		balance = m[1]
	}
	return code, status, balance, html
}

// holdWebhooks keeps every new delivery back until releaseWebhooks.
func (a *app) holdWebhooks() {
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 1 << 20 })
}

func (a *app) releaseWebhooks() {
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 0 })
	a.sim.ReleaseHeld(false)
	a.settle()
}

// receiptStatus is the status cell of purchase pur's receipt on user's
// experience page.
func (a *app) receiptStatus(user, pur string) string {
	a.t.Helper()
	_, body := a.get("/experiences/"+a.experience(), user)
	cells := parsePage(a.t, body).cells("receipt-" + pur)
	if len(cells) != 5 {
		a.t.Fatalf("the receipt of %s = %q", pur, cells)
	}
	return cells[4]
}

func (a *app) purchase(id string) ledger.Purchase {
	a.t.Helper()
	p, err := a.store.Purchase(a.ctx, id)
	if err != nil {
		a.t.Fatal(err)
	}
	return p
}

// checkoutAtWhop reads a checkout configuration as the sandbox holds it.
func (a *app) checkoutAtWhop(id string) (redirect string, metadata map[string]string) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.env.APIBase+"/checkout_configurations/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+a.env.Seed.App.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	var co struct {
		RedirectURL string            `json:"redirect_url"`
		Metadata    map[string]string `json:"metadata"`
	}
	if err := json.NewDecoder(res.Body).Decode(&co); err != nil {
		a.t.Fatal(err)
	}
	return co.RedirectURL, co.Metadata
}

// TestPremiumCheckoutReturnsToTheExperience: paying for premium on Whop's
// own page brings the buyer back to the experience, which re-checks access.
func TestPremiumCheckoutReturnsToTheExperience(t *testing.T) {
	a := setup(t)
	code, out, raw := a.call("POST", "/api/premium/checkout", a.member(0), map[string]string{"experience_id": a.experience()})
	if code != 200 {
		t.Fatalf("premium checkout = %d %s", code, raw)
	}
	redirect, meta := a.checkoutAtWhop(out["id"].(string))
	if want := a.env.RelayURL + "/experiences/" + a.experience() + "?upgrade=returned"; redirect != want || meta["experience_id"] != a.experience() {
		t.Fatalf("premium configuration redirect_url = %q (metadata %v), want %q", redirect, meta, want)
	}
	if want := a.env.URL + "/checkout/" + out["planId"].(string) + "?session=" + out["id"].(string); out["purchase_url"] != want {
		t.Fatalf("premium purchase_url = %v, want %s", out["purchase_url"], want)
	}
}

func TestChargeSendsTheBuyerBackToTheirPurchase(t *testing.T) {
	a := setup(t)
	code, out, raw := a.call("POST", "/api/charge", a.member(0), map[string]string{"experience_id": a.experience(), "package": "starter"})
	if code != 200 {
		t.Fatalf("charge = %d %s", code, raw)
	}
	ch, pur := out["id"].(string), out["purchase_id"].(string)
	if want := a.env.URL + "/checkout/" + out["planId"].(string) + "?session=" + ch; out["purchase_url"] != want {
		t.Errorf("purchase_url = %v, want %s", out["purchase_url"], want)
	}
	redirect, meta := a.checkoutAtWhop(ch)
	if want := a.env.RelayURL + "/purchases/" + pur + "/return"; redirect != want || meta["creditkit_purchase_id"] != pur {
		t.Fatalf("configuration redirect_url = %q (metadata %v), want %q", redirect, meta, want)
	}
}

func TestReturnBeforeTheWebhookCreditsOnce(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.holdWebhooks()
	ch, plan, pur := a.charge(user, "starter")
	receipt := a.pay(ch, plan, user)

	code, status, balance, html := a.returnPage(pur, user)
	if code != 200 || status != "paid" || balance != "100" || !strings.Contains(html, "100 credits are in your wallet.") ||
		!strings.Contains(html, receipt) {
		t.Fatalf("return = %d %q balance %q:\n%s", code, status, balance, html)
	}
	if p := a.purchase(pur); p.Status != ledger.PurchasePaid || p.PaymentID != receipt || p.PaidAmount != 499 {
		t.Fatalf("purchase after return = %+v", p)
	}
	if n := a.count(`SELECT count(*) FROM webhook_deliveries`); n != 0 {
		t.Fatalf("%d deliveries arrived before the return; the test wants the return first", n)
	}
	code, status, balance, _ = a.returnPage(pur, user) // twice: nothing more
	if code != 200 || status != "paid" || balance != "100" {
		t.Fatalf("second return = %d %q %q", code, status, balance)
	}
	a.releaseWebhooks() // the webhook arrives after: nothing more
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance = %d, want 100", b)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries`); n != 1 {
		t.Fatalf("ledger entries = %d, want 1", n)
	}
	if n := a.count(`SELECT count(*) FROM webhook_deliveries WHERE event_type = 'payment.succeeded'`); n != 1 {
		t.Fatalf("payment.succeeded deliveries = %d, want 1 (answered, crediting nothing)", n)
	}
}

func TestReturnAfterTheWebhookCreditsNothingMore(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	ch, plan, pur := a.charge(user, "pro")
	a.pay(ch, plan, user)
	a.settle()
	for i := 0; i < 2; i++ {
		code, status, balance, _ := a.returnPage(pur, user)
		if code != 200 || status != "paid" || balance != "600" {
			t.Fatalf("return %d = %d %q %q, want 200 paid 600", i+1, code, status, balance)
		}
	}
	if b := a.balance(user); b != 600 {
		t.Fatalf("balance = %d, want 600", b)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries`); n != 1 {
		t.Fatalf("ledger entries = %d, want 1", n)
	}
}

func TestReturnsRacingTheWebhookCreditOnce(t *testing.T) {
	a := setup(t)
	user := a.member(1)
	const rounds = 10
	var wg sync.WaitGroup
	for i := 0; i < rounds; i++ {
		ch, plan, pur := a.charge(user, "starter")
		a.pay(ch, plan, user)    // the webhook is on its way…
		for j := 0; j < 3; j++ { // …while the buyer's browser comes back three times
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, status, _, html := a.returnPage(pur, user); code != 200 || status != "paid" {
					t.Errorf("return = %d %q:\n%s", code, status, html)
				}
			}()
		}
	}
	wg.Wait()
	a.settle()
	if b := a.balance(user); b != rounds*100 {
		t.Fatalf("balance = %d, want %d", b, rounds*100)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'purchase'`); n != rounds {
		t.Fatalf("purchase entries = %d, want %d", n, rounds)
	}
}

func TestReturnAfterADeclineShowsTheFailure(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.holdWebhooks() // the return, not payment.failed, is first to see it
	ch, plan, pur := a.charge(user, "starter")
	if _, err := a.sim.Decline(whopsim.Purchase{CheckoutID: ch, PlanID: plan, UserID: user}); err != nil {
		t.Fatal(err)
	}
	code, status, balance, html := a.returnPage(pur, user)
	if code != 200 || status != "failed" || balance != "0" ||
		!strings.Contains(html, "Your card was declined. No credits were added and your balance is unchanged.") {
		t.Fatalf("return = %d %q %q:\n%s", code, status, balance, html)
	}
	if p := a.purchase(pur); p.Status != ledger.PurchaseFailed || p.FailureReason != "Your card was declined." {
		t.Fatalf("purchase = %+v, want failed with the card's reason", p)
	}
	a.releaseWebhooks()
	if code, status, _, _ = a.returnPage(pur, user); status != "failed" {
		t.Fatalf("return after payment.failed = %d %q", code, status)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries`); n != 0 || a.balance(user) != 0 {
		t.Fatalf("a declined checkout credited: %d entries, balance %d", n, a.balance(user))
	}

	// Paying the same checkout afterwards (another card) still credits it.
	a.pay(ch, plan, user)
	if _, status, balance, _ = a.returnPage(pur, user); status != "paid" || balance != "100" {
		t.Fatalf("return after paying = %q %q, want paid 100", status, balance)
	}
	a.settle()
}

// TestReturnOfARefusedPaymentDoesNotInviteAnother: Whop holds a paid
// payment for the purchase that the app refuses (here one disputed before
// any webhook credited it). Its buyer may have been charged, so neither the
// return page nor the modal's outcome calls it a failure to try again: both
// say no credits were added and where the money goes.
func TestReturnOfARefusedPaymentDoesNotInviteAnother(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 }) // payment.succeeded is lost
	ch, plan, pur := a.charge(user, "starter")
	receipt := a.pay(ch, plan, user)
	a.settle()
	if _, err := a.sim.Dispute(receipt, "fraudulent"); err != nil {
		t.Fatal(err)
	}
	a.settle()
	const said = "Whop&#39;s payment for this purchase is disputed, so no credits are added while the dispute is open. " +
		"If Whop charged you, check your Whop receipts before paying again: the seller sees the payment in their books."
	code, status, balance, html := a.returnPage(pur, user)
	if code != 200 || status != "refused" || balance != "0" || !strings.Contains(html, said) ||
		!strings.Contains(html, "Payment not credited") {
		t.Fatalf("return = %d %q %q:\n%s", code, status, balance, html)
	}
	assertLacks(t, "the refused payment's return page", html, "try again", "did not go through")
	code, out, raw := a.call("POST", "/api/purchases/"+pur+"/outcome", user, map[string]string{})
	if code != 200 || out["outcome"] != "refused" || out["balance"] != float64(0) || out["credits"] != float64(100) ||
		out["reason"] != "Whop's payment for this purchase is disputed, so no credits are added while the dispute is open." ||
		out["advice"] != "If Whop charged you, check your Whop receipts before paying again: the seller sees the payment in their books." {
		t.Fatalf("modal outcome = %d %s", code, raw)
	}
	rs, _ := a.store.Rejections(a.ctx, receipt)
	if p := a.purchase(pur); p.Status == ledger.PurchasePaid || len(rs) != 1 || rs[0].PurchaseID != pur ||
		rs[0].Reason != "payment is disputed (dispute_needs_response)" || !rs[0].BuyerCharged {
		t.Fatalf("purchase %+v, rejections %+v: want unpaid, the payment refused once for its dispute", p, rs)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries`); n != 0 || a.balance(user) != 0 {
		t.Fatalf("a refused payment credited: %d entries, balance %d", n, a.balance(user))
	}

	// The member's receipt and the creator's dashboard say so too: not
	// "Not paid", since Whop took a payment; the creator can look it up.
	_, body := a.get("/experiences/"+a.experience(), user)
	cells := parsePage(t, body).cells("receipt-" + pur)
	if len(cells) != 5 || !strings.HasPrefix(cells[1], "starter") || cells[2] != "—" ||
		cells[3] != "— Payment not credited: see your Whop receipts" || cells[4] != "Not credited" {
		t.Errorf("member's receipt = %q", cells)
	}
	creator := a.env.Seed.Creator.ID
	_, body = a.get("/dashboard/"+creator, a.env.Seed.Admin.ID)
	page := parsePage(t, body)
	cells = page.cells("receipt-" + pur)
	if len(cells) != 6 || !strings.HasSuffix(cells[0], "UTC") ||
		!slices.Equal(cells[1:], []string{user, "starter 100 credits", "—", receipt, "Not credited"}) {
		t.Errorf("creator's receipt = %q", cells)
	}
	href := page.attr("lookup-"+pur, "href")
	if href != "/dashboard/"+creator+"?payment="+receipt+"#lookup" {
		t.Fatalf("the refused payment's look-up link = %q", href)
	}
	// The look-up says why it was not credited, on the page and in the API.
	_, body = a.get(strings.TrimSuffix(href, "#lookup"), a.env.Seed.Admin.ID)
	want := "Credit purchase " + pur + ": 100 credits (starter) in " + a.experience() +
		", pending. Not credited: payment is disputed (dispute_needs_response)."
	look := parsePage(t, body)
	if got := look.text("payment-purchase"); got != want {
		t.Errorf("look-up's purchase line = %q, want %q", got, want)
	}
	// The refused payment ended: kept as refused, neither under way nor a
	// decline.
	want = "Payments of the purchase that did not pay it, newest first: " + receipt +
		" refused: payment is disputed (dispute_needs_response)."
	if got := look.text("payment-attempts"); got != want {
		t.Errorf("look-up's payments of the purchase = %q, want %q", got, want)
	}
	code, out, raw = a.call("GET", "/api/payments/"+receipt+"?company_id="+creator, a.env.Seed.Admin.ID, nil)
	refusals, _ := out["refusals"].([]any)
	if code != 200 || len(refusals) != 1 || !reflect.DeepEqual(refusals[0], map[string]any{
		"purchase_id": pur, "source": "webhook", "reason": "payment is disputed (dispute_needs_response)"}) {
		t.Errorf("look-up API = %d %s", code, raw)
	}
}

// TestAnotherUsersPaymentsOnTheCheckoutAreNotTheBuyers: a checkout's link
// can be passed on, so another user may fail or pay on a member's checkout.
// Neither is the member's attempt: their purchase is not failed by a card
// they did not use, and not called refused for a payment that charged them
// nothing, so the return page, the modal, confirm and the receipt agree
// ("Not paid", still theirs to pay), and confirm calls either receipt not
// theirs. The stranger's paid payment is still refused and recorded, once,
// for the owner to refund, and the member's own payment then credits them.
func TestAnotherUsersPaymentsOnTheCheckoutAreNotTheBuyers(t *testing.T) {
	a := setup(t)
	buyer, stranger := a.member(0), a.member(1)
	ch, plan, pur := a.charge(buyer, "starter")
	receiptBadge := func() string { return a.receiptStatus(buyer, pur) }
	// wantUnpaid asks the return page and, with modal, the purchase modal's
	// outcome (which waits out Whop's delay of 3 s before it says closed).
	wantUnpaid := func(when string, modal bool) {
		t.Helper()
		if code, status, balance, html := a.returnPage(pur, buyer); code != 200 || status != "processing" || balance != "" ||
			!strings.Contains(html, "Whop shows no payment of yours for this purchase.") {
			t.Fatalf("%s: return = %d %q %q, want processing (nothing of the buyer's yet):\n%s", when, code, status, balance, html)
		}
		if modal {
			code, out, raw := a.call("POST", "/api/purchases/"+pur+"/outcome", buyer, map[string]string{})
			if code != 200 || out["outcome"] != "closed" || out["reason"] != "" || out["balance"] != float64(0) {
				t.Fatalf("%s: modal outcome = %d %s, want closed", when, code, raw)
			}
		}
		if p := a.purchase(pur); p.Status != ledger.PurchasePending || p.FailureReason != "" || p.PaymentID != "" {
			t.Fatalf("%s: purchase = %+v, want still pending", when, p)
		}
		if got := receiptBadge(); got != "Not paid" {
			t.Fatalf("%s: the buyer's receipt reads %q, want Not paid", when, got)
		}
	}

	// The stranger's card is declined on the buyer's checkout.
	a.holdWebhooks() // the return and the modal see it before payment.failed
	declined, err := a.sim.Decline(whopsim.Purchase{CheckoutID: ch, PlanID: plan, UserID: stranger})
	if err != nil {
		t.Fatal(err)
	}
	wantUnpaid("after the stranger's decline", true)
	code, out, raw := a.call("POST", "/api/purchases/"+pur+"/confirm", buyer, map[string]string{"receipt_id": declined.ReceiptID})
	if code != 409 || errCode(out) != "receipt_mismatch" {
		t.Fatalf("confirm with the stranger's declined receipt = %d %s, want 409 receipt_mismatch", code, raw)
	}
	a.releaseWebhooks()
	wantUnpaid("after payment.failed", false)
	dl, _ := a.store.RecentDeliveries(a.ctx, 1)
	if len(dl) != 1 || dl[0].Type != whop.EventPaymentFailed || dl[0].ObjectID != declined.ReceiptID ||
		dl[0].Outcome != "ignored: payment user is not the purchase's user" {
		t.Fatalf("the stranger's payment.failed = %+v", dl)
	}

	// The stranger pays: refused and recorded, charged to nobody the
	// purchase knows.
	a.holdWebhooks()
	paid := a.pay(ch, plan, stranger)
	wantUnpaid("after the stranger's payment", true)
	code, out, raw = a.call("POST", "/api/purchases/"+pur+"/confirm", buyer, map[string]string{"receipt_id": paid})
	if code != 409 || errCode(out) != "receipt_mismatch" {
		t.Fatalf("confirm with the stranger's paid receipt = %d %s, want 409 receipt_mismatch", code, raw)
	}
	a.releaseWebhooks()
	wantUnpaid("after payment.succeeded", false)
	rs, _ := a.store.Rejections(a.ctx, paid)
	if len(rs) != 1 || rs[0] != (ledger.Rejection{PaymentID: paid, PurchaseID: pur, Source: "return",
		Reason: "payment user is not the purchase's user", BuyerCharged: false}) {
		t.Fatalf("rejections of the stranger's payment = %+v, want one, by the return", rs)
	}

	// The buyer's own payment credits them, once.
	mine := a.pay(ch, plan, buyer)
	if code, status, balance, _ := a.returnPage(pur, buyer); code != 200 || status != "paid" || balance != "100" {
		t.Fatalf("return after the buyer paid = %d %q %q, want paid 100", code, status, balance)
	}
	a.settle()
	if p := a.purchase(pur); p.Status != ledger.PurchasePaid || p.PaymentID != mine || p.FailureReason != "" {
		t.Fatalf("purchase = %+v, want paid by %s", p, mine)
	}
	if a.balance(buyer) != 100 || a.balance(stranger) != 0 || receiptBadge() != "Paid" {
		t.Fatalf("balances: buyer %d stranger %d, receipt %q", a.balance(buyer), a.balance(stranger), receiptBadge())
	}
}

func TestReturnWhileWhopIsStillProcessing(t *testing.T) {
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentPendingFor = time.Hour }))
	user := a.member(0)
	a.holdWebhooks()
	ch, plan, pur := a.charge(user, "starter")
	a.pay(ch, plan, user)
	code, status, balance, html := a.returnPage(pur, user)
	if code != 200 || status != "processing" || balance != "" { // no balance until it includes the payment
		t.Fatalf("return = %d %q %q", code, status, balance)
	}
	for _, want := range []string{`data-polls="12"`, `data-testid="return-progress"`, `data-testid="return-slow" data-title="Still waiting for Whop" aria-live="polite" hidden`,
		"Whop is taking longer than usual. Your credits will arrive in your wallet as soon as the payment is confirmed",
		"/static/js/return.js"} {
		if !strings.Contains(html, want) {
			t.Errorf("processing page lacks %q", want)
		}
	}
	assertLacks(t, "the return page of a pending payment", html, "no payment of yours")
	if p := a.purchase(pur); p.Status != ledger.PurchasePending {
		t.Fatalf("purchase = %s, want still pending", p.Status)
	}
	a.releaseWebhooks() // the webhook carries the paid payment
	if _, status, balance, _ = a.returnPage(pur, user); status != "paid" || balance != "100" {
		t.Fatalf("return after the webhook = %q %q, want paid 100", status, balance)
	}
}

func TestReturnWhenWhopDoesNotAnswerSaysConfirming(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	a.holdWebhooks()
	ch, plan, pur := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus = 1, 500 })
	if code, status, _, _ := a.returnPage(pur, user); code != 200 || status != "processing" {
		t.Fatalf("return while Whop fails = %d %q, want 200 processing (the page asks again)", code, status)
	}
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 0 })
	if _, status, balance, _ := a.returnPage(pur, user); status != "paid" || balance != "100" {
		t.Fatalf("return once Whop answers = %q %q, want paid 100", status, balance)
	}
	a.releaseWebhooks()
}

func TestReturnShowsNothingToAnyoneButTheBuyer(t *testing.T) {
	a := setup(t)
	owner, other := a.member(0), a.member(1)
	a.holdWebhooks()
	ch, plan, pur := a.charge(owner, "starter")
	receipt := a.pay(ch, plan, owner)

	for _, tc := range []struct{ name, id, user string }{
		{"another member", pur, other},
		{"an unknown purchase", "pur_doesnotexist0000", owner},
		{"a member without access", pur, a.env.Seed.NoAccess.ID},
	} {
		code, status, _, html := a.returnPage(tc.id, tc.user)
		if code != 404 || status != "" || !strings.Contains(html, `data-testid="error-page"`) {
			t.Errorf("%s: return = %d %q, want the 404 page", tc.name, code, status)
		}
	}
	expired, err := a.sim.TokenWith(owner, whopsim.TokenExpired)
	if err != nil {
		t.Fatal(err)
	}
	for name, header := range map[string]string{"no token": "", "an expired token": expired} {
		req, _ := http.NewRequest("GET", a.url+"/purchases/"+pur+"/return", nil)
		if header != "" {
			req.Header.Set(whop.HeaderUserToken, header)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		html := string(raw)
		if res.StatusCode != 200 || !strings.Contains(html, `data-return-status="unknown"`) {
			t.Errorf("%s: %d, want the page for an unknown visitor:\n%s", name, res.StatusCode, html)
		}
		for _, private := range []string{pur, receipt, "starter", "$4.99", `data-testid="balance"`, "/experiences/"} {
			if strings.Contains(html, private) {
				t.Errorf("%s: the page shows %q", name, private)
			}
		}
	}
	if p := a.purchase(pur); p.Status != ledger.PurchasePending || a.balance(other) != 0 || a.balance(owner) != 0 {
		t.Fatalf("returns by others changed something: purchase %s, balances %d %d", p.Status, a.balance(owner), a.balance(other))
	}
	a.releaseWebhooks() // the payment is not lost: the webhook credits its buyer
	if b := a.balance(owner); b != 100 {
		t.Fatalf("owner balance after the webhook = %d, want 100", b)
	}
}

// TestALateDeclineDoesNotFailThePaymentUnderWay: a member's card is
// declined, and they pay on the same checkout with another, which Whop
// shows pending for a while. Whop's webhooks come in any order, so the
// first card's payment.failed can arrive after that. Neither it nor
// confirming the declined receipt calls the purchase failed while the
// other payment is under way: the receipt, the return page and confirm all
// say processing, the late delivery is recorded as kept out (on the
// purchase's look-up), and the payment credits 100 once it clears.
func TestALateDeclineDoesNotFailThePaymentUnderWay(t *testing.T) {
	a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentPendingFor = time.Hour }))
	buyer := a.member(0)
	a.holdWebhooks()
	ch, plan, pur := a.charge(buyer, "starter")
	declined, err := a.sim.Decline(whopsim.Purchase{CheckoutID: ch, PlanID: plan, UserID: buyer})
	if err != nil {
		t.Fatal(err)
	}
	nextMillisecond()
	receipt := a.pay(ch, plan, buyer)
	late := lastEvent(t, a, "payment.failed")

	code, out, raw := a.call("POST", "/api/purchases/"+pur+"/confirm", buyer, map[string]string{"receipt_id": receipt})
	if code != 202 || out["status"] != "processing" {
		t.Fatalf("confirm of the payment under way = %d %s, want 202 processing", code, raw)
	}
	wantProcessing := func(when string) {
		t.Helper()
		p := a.purchase(pur)
		if p.Status != ledger.PurchaseProcessing || p.FailureReason != "" || p.PaymentID != "" || p.PaidAmount != 0 {
			t.Fatalf("%s: purchase %s %q, payment %q, paid %d; want processing, no reason, no payment",
				when, p.Status, p.FailureReason, p.PaymentID, p.PaidAmount)
		}
		if got := a.receiptStatus(buyer, pur); got != "Processing" {
			t.Fatalf("%s: the receipt reads %q, want Processing", when, got)
		}
		if code, status, balance, html := a.returnPage(pur, buyer); code != 200 || status != "processing" || balance != "" {
			t.Fatalf("%s: return = %d %q %q, want processing:\n%s", when, code, status, balance, html)
		}
		if b := a.balance(buyer); b != 0 {
			t.Fatalf("%s: balance %d, want 0", when, b)
		}
	}
	wantProcessing("after confirming the payment under way")

	// The declined card's receipt is older than the payment under way.
	code, out, raw = a.call("POST", "/api/purchases/"+pur+"/confirm", buyer, map[string]string{"receipt_id": declined.ReceiptID})
	if code != 202 || out["status"] != "processing" {
		t.Fatalf("confirm of the older declined receipt = %d %s, want 202 processing", code, raw)
	}
	wantProcessing("after confirming the older declined receipt")

	// Its payment.failed arrives now, late.
	if err := a.sim.Deliver([]string{late.ID}, false); err != nil {
		t.Fatal(err)
	}
	a.settle()
	wantProcessing("after the late payment.failed")
	if outcome, linked := a.delivery(late.ID); outcome != "ignored: another payment of the purchase is under way: purchase stays processing" || linked != pur {
		t.Fatalf("the late delivery was recorded as %q on %q", outcome, linked)
	}

	// The creator's look-up of the declined receipt says why its purchase
	// reads processing: the purchase's payments, newest first.
	at := map[string]time.Time{}
	for _, p := range a.sim.Payments() {
		at[p.ID] = p.UpdatedAt.Truncate(time.Millisecond) // as Whop renders it
	}
	shown := func(id string) string { return at[id].UTC().Format("Jan 2, 2006 15:04:05") + " UTC" }
	creator, admin := a.env.Seed.Creator.ID, a.env.Seed.Admin.ID
	_, body := a.get("/dashboard/"+creator+"?payment="+declined.ReceiptID, admin)
	look := parsePage(t, body)
	if got, want := look.text("payment-purchase"), "Credit purchase "+pur+": 100 credits (starter) in "+a.experience()+", processing."; got != want {
		t.Errorf("look-up's purchase line = %q, want %q", got, want)
	}
	if got, want := look.text("payment-attempts"), "Payments of the purchase that did not pay it, newest first: "+receipt+" processing since "+shown(receipt)+"; "+
		declined.ReceiptID+" failed "+shown(declined.ReceiptID)+": Your card was declined."; got != want {
		t.Errorf("look-up's payments of the purchase = %q, want %q", got, want)
	}
	code, out, raw = a.call("GET", "/api/payments/"+declined.ReceiptID+"?company_id="+creator, admin, nil)
	purchaseOut, _ := out["purchase"].(map[string]any)
	wantPayments := []any{
		map[string]any{"payment_id": receipt, "status": "processing", "reason": "", "at": at[receipt].UTC().Truncate(time.Second).Format(time.RFC3339)},
		map[string]any{"payment_id": declined.ReceiptID, "status": "failed", "reason": "Your card was declined.",
			"at": at[declined.ReceiptID].UTC().Truncate(time.Second).Format(time.RFC3339)},
	}
	if code != 200 || purchaseOut["status"] != "processing" || !jsonEqual(purchaseOut["payments"], wantPayments) {
		t.Fatalf("look-up API = %d %s; want the purchase processing with payments %v", code, raw, wantPayments)
	}

	// The payment clears: credited once.
	a.releaseWebhooks()
	p := a.purchase(pur)
	if p.Status != ledger.PurchasePaid || p.PaymentID != receipt || p.FailureReason != "" || a.balance(buyer) != 100 {
		t.Fatalf("after the payment cleared: purchase %s %q %q, balance %d", p.Status, p.PaymentID, p.FailureReason, a.balance(buyer))
	}
	if got := a.receiptStatus(buyer, pur); got != "Paid" {
		t.Fatalf("the receipt reads %q once paid", got)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE reference = $1`, pur); n != 1 {
		t.Fatalf("%d ledger entries for the purchase, want 1", n)
	}
	// Once paid, the purchase's other payments are the declined card alone.
	_, body = a.get("/dashboard/"+creator+"?payment="+receipt, admin)
	if got, want := parsePage(t, body).text("payment-attempts"), "Payments of the purchase that did not pay it, newest first: "+
		declined.ReceiptID+" failed "+shown(declined.ReceiptID)+": Your card was declined."; got != want {
		t.Errorf("look-up of the paying receipt: payments of the purchase = %q, want %q", got, want)
	}
}

// TestTheReturnPageRecordsEveryDecline: a bank payment goes pending (the
// purchase processing), its failure's webhook is lost, and the member's
// card is then declined. The declined card's webhook leaves the purchase
// processing, since the bank payment still reads as under way; the return
// page lists both failures and records each, so the purchase ends failed
// with the newest decline's reason, where recording the newest alone left
// it "Confirming" until the reconciler's next run.
func TestTheReturnPageRecordsEveryDecline(t *testing.T) {
	a := setup(t)
	buyer := a.member(0)
	ch, plan, pur := a.charge(buyer, "starter")
	bank := a.payPending(ch, plan, buyer)
	a.failLosingWebhook(bank)
	nextMillisecond()
	card, err := a.sim.Decline(whopsim.Purchase{CheckoutID: ch, PlanID: plan, UserID: buyer})
	if err != nil {
		t.Fatal(err)
	}
	a.settle()
	if p := a.purchase(pur); p.Status != ledger.PurchaseProcessing {
		t.Fatalf("after the card's decline: purchase %s %q, want processing (the bank payment's failure was lost)", p.Status, p.FailureReason)
	}
	if code, status, balance, html := a.returnPage(pur, buyer); code != 200 || status != "failed" || balance != "0" ||
		!strings.Contains(html, "Your card was declined.") {
		t.Fatalf("return = %d %q %q, want failed with the card's decline:\n%s", code, status, balance, html)
	}
	p := a.purchase(pur)
	if p.Status != ledger.PurchaseFailed || p.FailureReason != "Your card was declined." || p.PaymentID != "" || a.balance(buyer) != 0 {
		t.Fatalf("after the return page: purchase %s %q %q, balance %d; want failed with the card's decline",
			p.Status, p.FailureReason, p.PaymentID, a.balance(buyer))
	}
	if got := a.receiptStatus(buyer, pur); got != "Failed" {
		t.Fatalf("the receipt reads %q, want Failed", got)
	}
	// Both payments' states, newest first, with Whop's times.
	at := map[string]time.Time{}
	for _, p := range a.sim.Payments() {
		at[p.ID] = p.UpdatedAt.Truncate(time.Millisecond) // as Whop renders it
	}
	want := []ledger.PaymentAttempt{
		{PaymentID: card.ReceiptID, Status: "failed", Reason: "Your card was declined.", At: at[card.ReceiptID]},
		{PaymentID: bank, Status: "failed", Reason: "The bank declined the transfer.", At: at[bank]},
	}
	got, err := a.store.PaymentAttempts(a.ctx, pur)
	if err != nil || len(got) != len(want) {
		t.Fatalf("payment states = %+v, %v; want %+v", got, err, want)
	}
	for i := range want {
		if got[i].PaymentID != want[i].PaymentID || got[i].Status != want[i].Status || got[i].Reason != want[i].Reason ||
			!got[i].At.Equal(want[i].At) {
			t.Fatalf("payment state %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestTheReturnPageRecordsTheNewestDecline: two cards declined on one
// checkout; the return page records the newer decline as the purchase's
// state, and of the two payment.failed deliveries arriving afterwards the
// older one is kept out and the newer one is what was recorded already.
func TestTheReturnPageRecordsTheNewestDecline(t *testing.T) {
	a := setup(t)
	buyer := a.member(0)
	a.holdWebhooks()
	ch, plan, pur := a.charge(buyer, "starter")
	var receipts []string
	for range 2 {
		res, err := a.sim.Decline(whopsim.Purchase{CheckoutID: ch, PlanID: plan, UserID: buyer})
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, res.ReceiptID)
		nextMillisecond()
	}
	at := map[string]time.Time{}
	for _, p := range a.sim.Payments() {
		at[p.ID] = p.UpdatedAt.Truncate(time.Millisecond) // as Whop renders it
	}
	if !at[receipts[0]].Before(at[receipts[1]]) {
		t.Fatalf("the declines' times %v, %v are not in order", at[receipts[0]], at[receipts[1]])
	}
	attemptAt := func() time.Time {
		t.Helper()
		var ts time.Time
		var pay string
		if err := a.db.Pool.QueryRow(a.ctx, `SELECT attempt_at, attempt_payment_id FROM purchases WHERE id = $1`, pur).Scan(&ts, &pay); err != nil {
			t.Fatal(err)
		}
		if pay != receipts[1] {
			t.Fatalf("the purchase holds the state of %s, want the newer decline %s", pay, receipts[1])
		}
		return ts
	}
	if code, status, balance, html := a.returnPage(pur, buyer); code != 200 || status != "failed" || balance != "0" {
		t.Fatalf("return = %d %q %q, want failed:\n%s", code, status, balance, html)
	}
	if p := a.purchase(pur); p.Status != ledger.PurchaseFailed || p.FailureReason != "Your card was declined." || !attemptAt().Equal(at[receipts[1]]) {
		t.Fatalf("after the return page: purchase %s %q at %v, want failed at the newer decline's %v",
			p.Status, p.FailureReason, attemptAt(), at[receipts[1]])
	}
	a.releaseWebhooks()
	rows, err := a.db.Pool.Query(a.ctx, `SELECT object_id, outcome, purchase_id FROM webhook_deliveries ORDER BY object_id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for rows.Next() {
		var obj, outcome, linked string
		if err := rows.Scan(&obj, &outcome, &linked); err != nil {
			t.Fatal(err)
		}
		got[obj] = [2]string{outcome, linked}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		receipts[0]: {"ignored: an earlier failure arrived late: purchase stays failed", pur},
		receipts[1]: {"ignored: purchase already failed", pur},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("deliveries = %v, want %v", got, want)
	}
	if p := a.purchase(pur); p.Status != ledger.PurchaseFailed || p.FailureReason != "Your card was declined." || !attemptAt().Equal(at[receipts[1]]) {
		t.Fatalf("after the deliveries: purchase %s %q at %v", p.Status, p.FailureReason, attemptAt())
	}
	if got := a.receiptStatus(buyer, pur); got != "Failed" {
		t.Fatalf("the receipt reads %q, want Failed", got)
	}
}

// nextMillisecond waits for the wall clock's next millisecond: the
// sandbox's times, like Whop's, are in milliseconds, and a member's second
// attempt comes seconds after the first, never within one.
func nextMillisecond() {
	for start := time.Now().Truncate(time.Millisecond); !time.Now().Truncate(time.Millisecond).After(start); {
		time.Sleep(100 * time.Microsecond)
	}
}
