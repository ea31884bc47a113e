package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

func TestChargeRecordsPendingPurchaseWithMetadata(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	checkoutID, planID, purchaseID := a.charge(user, "starter")
	if !strings.HasPrefix(checkoutID, "ch_") || !strings.HasPrefix(planID, "plan_") || !strings.HasPrefix(purchaseID, "pur_") {
		t.Fatalf("charge answer: %s %s %s", checkoutID, planID, purchaseID)
	}
	p, err := a.store.Purchase(a.ctx, purchaseID)
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.Purchase{
		ID: purchaseID, UserID: user, ExperienceID: a.experience(), CompanyID: a.env.Seed.Creator.ID,
		PackageID: "starter", Credits: 100, Price: 499, Currency: "usd", CheckoutID: checkoutID, PlanID: planID,
		PurchaseURL: p.PurchaseURL, Status: ledger.PurchasePending, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p != want || p.PurchaseURL == "" {
		t.Fatalf("purchase = %+v\nwant %+v", p, want)
	}
	// The configuration Whop holds carries the price we set and metadata naming the purchase.
	receipt := a.pay(checkoutID, planID, user)
	pay, err := a.whop.GetPayment(a.ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Total != 499 || pay.Currency != "usd" || pay.Metadata["creditkit_purchase_id"] != purchaseID ||
		pay.Metadata["experience_id"] != a.experience() || pay.Metadata["user_id"] != user || pay.Metadata["package_id"] != "starter" ||
		pay.CompanyID != a.env.Seed.Owner.ID {
		t.Fatalf("payment at Whop = %+v", pay)
	}
}

func TestChargeRefusesBadRequestsAndWritesNothing(t *testing.T) {
	a := setup(t)
	exp := a.experience()
	tests := []struct {
		name   string
		user   string
		body   any
		status int
		code   string
	}{
		{"no token", "", map[string]string{"experience_id": exp, "package": "starter"}, 401, "unauthenticated"},
		{"unknown package", a.member(0), map[string]string{"experience_id": exp, "package": "gold"}, 400, "unknown_package"},
		{"missing experience", a.member(0), map[string]string{"package": "starter"}, 400, "missing_field"},
		{"no access", a.env.Seed.NoAccess.ID, map[string]string{"experience_id": exp, "package": "starter"}, 403, "forbidden"},
		{"unknown experience", a.member(0), map[string]string{"experience_id": "exp_doesnotexist00", "package": "starter"}, 403, "forbidden"},
		{"price in body", a.member(0), map[string]any{"experience_id": exp, "package": "starter", "price": 1}, 400, "invalid_json"},
		{"not json", a.member(0), "starter please", 400, "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, raw := a.call("POST", "/api/charge", tt.user, tt.body)
			if code != tt.status || out["error"].(map[string]any)["code"] != tt.code {
				t.Fatalf("got %d %s, want %d %s", code, raw, tt.status, tt.code)
			}
			if msg := out["error"].(map[string]any)["message"].(string); len(msg) < 10 {
				t.Errorf("message %q is not a clear sentence", msg)
			}
		})
	}
	if n := a.count(`SELECT count(*) FROM purchases`); n != 0 {
		t.Fatalf("%d purchases written by refused charges", n)
	}
}

func TestChargeIdempotencyKey(t *testing.T) {
	a := setup(t)
	body := map[string]string{"experience_id": a.experience(), "package": "starter", "idempotency_key": "tap-1"}
	_, first, _ := a.call("POST", "/api/charge", a.member(0), body)
	_, again, _ := a.call("POST", "/api/charge", a.member(0), body)
	if first["purchase_id"] != again["purchase_id"] || first["id"] != again["id"] || first["planId"] != again["planId"] {
		t.Fatalf("same key gave %v then %v", first, again)
	}
	body["package"] = "pro"
	code, out, _ := a.call("POST", "/api/charge", a.member(0), body)
	if code != 409 || out["error"].(map[string]any)["code"] != "idempotency_conflict" {
		t.Fatalf("same key, other package: %d %v", code, out)
	}
	if n := a.count(`SELECT count(*) FROM purchases`); n != 1 {
		t.Fatalf("purchases = %d, want 1", n)
	}
}

func TestBuyThenWebhookCreditsExactlyOnce(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	ch, plan, pur := a.charge(user, "starter")
	receipt := a.pay(ch, plan, user)
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after webhook = %d, want 100", b)
	}
	p, _ := a.store.Purchase(a.ctx, pur)
	if p.Status != ledger.PurchasePaid || p.PaymentID != receipt || p.PaidAmount != 499 || p.FulfilledAt.IsZero() {
		t.Fatalf("purchase after webhook = %+v", p)
	}
	// The same delivery three more times changes nothing.
	ev := lastEvent(t, a, "payment.succeeded")
	if err := a.sim.Redeliver(ev.ID, 3); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after 3 redeliveries = %d, want 100", b)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries`); n != 1 {
		t.Fatalf("ledger entries = %d, want 1", n)
	}
	if n := a.count(`SELECT count(*) FROM webhook_deliveries WHERE event_type = 'payment.succeeded'`); n != 1 {
		t.Fatalf("payment.succeeded deliveries recorded = %d, want 1 (repeats are not stored twice)", n)
	}
	for _, at := range a.sim.Deliveries() {
		if at.Status != 200 {
			t.Errorf("delivery %s attempt %d answered %d", at.EventID, at.Attempt, at.Status)
		}
	}
}

func TestConfirmBeforeAndAfterWebhook(t *testing.T) {
	a := setup(t)
	user := a.member(0)

	// Confirm first: the webhook is held back until after.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 1 })
	ch, plan, pur := a.charge(user, "starter")
	receipt := a.pay(ch, plan, user)
	code, out, raw := a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": receipt})
	if code != 200 || out["balance"] != float64(100) || out["status"] != "paid" {
		t.Fatalf("confirm = %d %s", code, raw)
	}
	a.sim.ReleaseHeld(false)
	a.settle()
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance after confirm then webhook = %d, want 100", b)
	}

	// Webhook first, then confirm.
	ch, plan, pur = a.charge(user, "pro")
	receipt = a.pay(ch, plan, user)
	a.settle()
	code, out, raw = a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": receipt})
	if code != 200 || out["balance"] != float64(700) {
		t.Fatalf("confirm after webhook = %d %s", code, raw)
	}
	if b := a.balance(user); b != 700 {
		t.Fatalf("balance = %d, want 700", b)
	}
}

func TestConfirmAndWebhookRacingCreditOnce(t *testing.T) {
	a := setup(t)
	user := a.member(1)
	const rounds = 15
	var wg sync.WaitGroup
	for i := 0; i < rounds; i++ {
		ch, plan, pur := a.charge(user, "starter")
		receipt := a.pay(ch, plan, user) // the webhook is on its way now…
		for j := 0; j < 3; j++ {         // …while the page confirms, three times over
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _, raw := a.call("POST", "/api/purchases/"+pur+"/confirm", user, map[string]string{"receipt_id": receipt})
				if code != 200 {
					t.Errorf("confirm: %d %s", code, raw)
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

func TestConfirmRefusesOthersAndMismatches(t *testing.T) {
	a := setup(t)
	owner, other := a.member(0), a.member(1)
	ch, plan, pur := a.charge(owner, "starter")
	receipt := a.pay(ch, plan, owner)
	a.settle()
	code, _, _ := a.call("POST", "/api/purchases/"+pur+"/confirm", other, map[string]string{"receipt_id": receipt})
	if code != 404 {
		t.Fatalf("another member confirming = %d, want 404", code)
	}
	_, _, pur2 := a.charge(owner, "starter")
	code, out, _ := a.call("POST", "/api/purchases/"+pur2+"/confirm", owner, map[string]string{"receipt_id": receipt})
	if code != 409 || out["error"].(map[string]any)["code"] != "receipt_mismatch" {
		t.Fatalf("confirming with another purchase's receipt = %d %v", code, out)
	}
	if b := a.balance(owner); b != 100 {
		t.Fatalf("balance = %d, want 100", b)
	}
}

func TestForgedAndStaleDeliveriesAre401AndWriteNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(*whopsim.Faults)
	}{
		{"forged", func(f *whopsim.Faults) { f.BadSignatureNext = 1 }},
		{"stale", func(f *whopsim.Faults) { f.TimestampSkewSeconds = -400 }},
		{"future", func(f *whopsim.Faults) { f.TimestampSkewSeconds = 400 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := setup(t, withSim(func(o *whopsim.Options) { o.RetryDelays = []time.Duration{} }))
			a.sim.UpdateFaults(tc.fault)
			user := a.member(0)
			ch, plan, _ := a.charge(user, "starter")
			a.pay(ch, plan, user)
			a.settle()
			at := a.sim.Deliveries()
			if len(at) != 1 || at[0].Status != 401 {
				t.Fatalf("attempts = %+v, want one answered 401", at)
			}
			for _, table := range []string{"webhook_deliveries", "ledger_entries", "wallets", "payment_rejections"} {
				if n := a.count(`SELECT count(*) FROM ` + table); n != 0 {
					t.Errorf("%s has %d rows after a refused delivery", table, n)
				}
			}
		})
	}
}

func TestPaymentsThatDoNotMatchAreRecordedNotCredited(t *testing.T) {
	a := setup(t)
	owner, thief := a.member(0), a.member(1)
	_, _, pur := a.charge(owner, "starter")

	// Checkouts made with the app's key but a lower price, another currency,
	// or paid by another user, all naming the owner's purchase.
	forge := func(price int64, cur string) (string, string) {
		c, err := a.whop.CreateCheckoutConfiguration(a.ctx, whop.CheckoutConfigurationParams{
			CompanyID: a.env.Seed.Owner.ID,
			Plan:      &whop.InlinePlan{Currency: money.Currency(cur), InitialPrice: price, PlanType: whop.PlanOneTime},
			Metadata:  map[string]string{"creditkit_purchase_id": pur},
		})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID, c.PlanID
	}
	cases := []struct {
		payer, reason string
		price         int64
		cur           string
	}{
		{owner, "payment amount 100 is below the price 499", 100, "usd"},
		{owner, `payment currency "eur" is not the purchase's "usd"`, 499, "eur"},
		{thief, "payment user is not the purchase's user", 499, "usd"},
	}
	for _, c := range cases {
		ch, plan := forge(c.price, c.cur)
		receipt := a.pay(ch, plan, c.payer)
		a.settle()
		rs, err := a.store.Rejections(a.ctx, receipt)
		if err != nil || len(rs) != 1 || rs[0].Reason != c.reason || rs[0].PurchaseID != pur || rs[0].Source != "webhook" {
			t.Fatalf("rejections for %s = %+v, want %q", receipt, rs, c.reason)
		}
	}
	if a.balance(owner) != 0 || a.balance(thief) != 0 {
		t.Fatalf("credited: owner %d thief %d", a.balance(owner), a.balance(thief))
	}
	p, _ := a.store.Purchase(a.ctx, pur)
	if p.Status != ledger.PurchasePending {
		t.Fatalf("purchase status = %s, want still pending", p.Status)
	}
	dl, _ := a.store.RecentDeliveries(a.ctx, 10)
	if len(dl) != 3 || !strings.HasPrefix(dl[0].Outcome, "rejected: ") {
		t.Fatalf("deliveries = %+v", dl)
	}
}

func TestRefundsTakeBackCreditsInProportion(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	ch, plan, _ := a.charge(user, "starter") // 100 credits for $4.99
	partial := a.pay(ch, plan, user)
	ch, plan, _ = a.charge(user, "pro") // 600 credits for $24.99
	full := a.pay(ch, plan, user)
	a.settle()
	if b := a.balance(user); b != 700 {
		t.Fatalf("balance = %d", b)
	}
	if err := a.sim.Refund(partial, 250); err != nil { // $2.50 of $4.99: ceil(100*250/499) = 51
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 649 {
		t.Fatalf("after partial refund balance = %d, want 649", b)
	}
	if err := a.sim.Refund(full, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 49 {
		t.Fatalf("after full refund balance = %d, want 49", b)
	}
	entries, _ := a.store.Entries(a.ctx, a.experience(), user)
	var refunds []int64
	for _, e := range entries {
		if e.Kind == ledger.KindRefund {
			refunds = append(refunds, e.Amount)
		}
	}
	if fmt.Sprint(refunds) != "[-51 -600]" {
		t.Fatalf("refund entries = %v, want [-51 -600]", refunds)
	}
}

func TestSpendAPI(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	ch, plan, _ := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.settle()
	body := map[string]string{"experience_id": a.experience(), "item": "boost", "idempotency_key": "click-1"}
	code, out, raw := a.call("POST", "/api/spend", user, body)
	if code != 200 || out["balance"] != float64(80) || out["cost"] != float64(20) || out["item"] != "boost" || out["replayed"] != false {
		t.Fatalf("spend = %d %s", code, raw)
	}
	code, again, _ := a.call("POST", "/api/spend", user, body)
	if code != 200 || again["spend_id"] != out["spend_id"] || again["balance"] != float64(80) || again["replayed"] != true {
		t.Fatalf("replay = %d %v", code, again)
	}
	body["item"] = "sticker"
	code, out, _ = a.call("POST", "/api/spend", user, body)
	if code != 409 || out["error"].(map[string]any)["code"] != "idempotency_conflict" {
		t.Fatalf("same key other item = %d %v", code, out)
	}
	code, out, _ = a.call("POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "review", "idempotency_key": "k2"})
	code2, out2, _ := a.call("POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "review", "idempotency_key": "k3"})
	if code != 200 || code2 != 409 {
		t.Fatalf("review spends = %d then %d", code, code2)
	}
	e := out2["error"].(map[string]any)
	if e["code"] != "insufficient_credits" || e["balance"] != float64(30) || !strings.Contains(e["message"].(string), "balance is 30") {
		t.Fatalf("insufficient = %v", e)
	}
	code, _, _ = a.call("POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "boost"})
	if code != 400 {
		t.Fatalf("spend without key = %d, want 400", code)
	}
	code, _, _ = a.call("POST", "/api/spend", a.env.Seed.NoAccess.ID, map[string]string{"experience_id": a.experience(), "item": "boost", "idempotency_key": "x"})
	if code != 403 {
		t.Fatalf("spend without access = %d, want 403", code)
	}
	if b := a.balance(user); b != 30 {
		t.Fatalf("balance = %d, want 30", b)
	}
}

func TestTwoHundredConcurrentSpendsOverHTTP(t *testing.T) {
	a := setup(t)
	if _, err := a.db.Pool.Exec(a.ctx, `INSERT INTO spend_items (id, name, description, cost) VALUES ('one', 'One', 'One credit', 1)`); err != nil {
		t.Fatal(err)
	}
	user := a.member(0)
	ch, plan, _ := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.settle()
	var ok, short int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			code, _, raw := a.call("POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "one", "idempotency_key": fmt.Sprint("k", i)})
			mu.Lock()
			defer mu.Unlock()
			switch code {
			case 200:
				ok++
			case 409:
				short++
			default:
				t.Errorf("spend %d: %d %s", i, code, raw)
			}
		}(i)
	}
	wg.Wait()
	if ok != 100 || short != 100 || a.balance(user) != 0 {
		t.Fatalf("ok %d, refused %d, balance %d; want 100, 100, 0", ok, short, a.balance(user))
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE balance_after < 0`); n != 0 {
		t.Fatalf("%d entries went negative", n)
	}
}

func lastEvent(t *testing.T, a *app, typ string) whopsim.Event {
	t.Helper()
	evs := a.sim.Events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return evs[i]
		}
	}
	t.Fatalf("no %s event", typ)
	return whopsim.Event{}
}
