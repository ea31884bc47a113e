package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

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
	// The owner's receipt reads "Not credited" once a refused payment
	// charged them; another user's payment charged them nothing.
	cases := []struct {
		payer, reason string
		price         int64
		cur           string
		charged       bool
		badge         string
	}{
		{thief, "payment user is not the purchase's user", 499, "usd", false, "Not paid"},
		{owner, "payment amount 100 is below the price 499", 100, "usd", true, "Not credited"},
		{owner, `payment currency "eur" is not the purchase's "usd"`, 499, "eur", true, "Not credited"},
	}
	for _, c := range cases {
		ch, plan := forge(c.price, c.cur)
		receipt := a.pay(ch, plan, c.payer)
		a.settle()
		rs, err := a.store.Rejections(a.ctx, receipt)
		if err != nil || len(rs) != 1 || rs[0] != (ledger.Rejection{PaymentID: receipt, PurchaseID: pur, Source: "webhook",
			Reason: c.reason, BuyerCharged: c.charged}) {
			t.Fatalf("rejections for %s = %+v, want %q (buyer charged: %t)", receipt, rs, c.reason, c.charged)
		}
		_, body := a.get("/experiences/"+a.experience(), owner)
		if cells := parsePage(t, body).cells("receipt-" + pur); len(cells) != 5 || cells[4] != c.badge {
			t.Errorf("after %q, the owner's receipt = %q, want %q", c.reason, cells, c.badge)
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
