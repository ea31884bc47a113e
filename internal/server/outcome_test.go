package server_test

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestModalOutcome: when Whop's purchase modal ends with an error, the page
// asks what happened, and Whop's records answer, not the modal's string.
func TestModalOutcome(t *testing.T) {
	outcome := func(a *app, user, purchase string) (int, map[string]any) {
		t.Helper()
		code, out, _ := a.call("POST", "/api/purchases/"+purchase+"/outcome", user, map[string]any{})
		return code, out
	}
	t.Run("declined, with Whop's reason, and the purchase marked failed", func(t *testing.T) {
		a := setup(t)
		user := a.member(0)
		ch, plan, pur := a.charge(user, "pro")
		if _, err := a.sim.Decline(whopsim.Purchase{CheckoutID: ch, PlanID: plan, UserID: user}); err != nil {
			t.Fatal(err)
		}
		code, out := outcome(a, user, pur)
		if code != 200 || out["outcome"] != "declined" || out["reason"] != "Your card was declined." || out["balance"] != float64(0) {
			t.Fatalf("outcome = %d %v", code, out)
		}
		if p := a.purchase(pur); p.Status != "failed" || p.FailureReason != "Your card was declined." {
			t.Fatalf("purchase = %s %q, want failed with the reason", p.Status, p.FailureReason)
		}
		a.settle()
	})
	t.Run("closed: no payment, after Whop's delay", func(t *testing.T) {
		a := setup(t)
		user := a.member(0)
		_, _, pur := a.charge(user, "pro")
		began := time.Now()
		code, out := outcome(a, user, pur)
		if code != 200 || out["outcome"] != "closed" || out["reason"] != "" || out["balance"] != float64(0) {
			t.Fatalf("outcome = %d %v", code, out)
		}
		t.Logf("closed confirmed after %v", time.Since(began).Round(time.Millisecond))
		if p := a.purchase(pur); p.Status != "pending" {
			t.Fatalf("purchase = %s, want still pending", p.Status)
		}
	})
	t.Run("paid after all: credited once", func(t *testing.T) {
		a := setup(t)
		user := a.member(0)
		ch, plan, pur := a.charge(user, "starter")
		a.pay(ch, plan, user)
		code, out := outcome(a, user, pur)
		if code != 200 || out["outcome"] != "paid" || out["credits"] != float64(100) || out["balance"] != float64(100) {
			t.Fatalf("outcome = %d %v", code, out)
		}
		a.settle()
		if b := a.balance(user); b != 100 {
			t.Fatalf("balance = %d after the webhook too, want 100", b)
		}
	})
	t.Run("still processing at Whop", func(t *testing.T) {
		a := setup(t, withSim(func(o *whopsim.Options) { o.PaymentPendingFor = time.Hour }))
		a.holdWebhooks()
		user := a.member(0)
		ch, plan, pur := a.charge(user, "starter")
		a.pay(ch, plan, user)
		if code, out := outcome(a, user, pur); code != 200 || out["outcome"] != "processing" || out["balance"] != float64(0) {
			t.Fatalf("outcome = %d %v", code, out)
		}
		a.releaseWebhooks()
	})
	t.Run("Whop unreachable", func(t *testing.T) {
		a := setup(t)
		user := a.member(0)
		_, _, pur := a.charge(user, "starter")
		a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 1 })
		if code, out := outcome(a, user, pur); code != 200 || out["outcome"] != "unknown" {
			t.Fatalf("outcome = %d %v", code, out)
		}
		a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 0 })
	})
	t.Run("someone else's purchase is not found", func(t *testing.T) {
		a := setup(t)
		_, _, pur := a.charge(a.member(0), "starter")
		if code, out := outcome(a, a.member(1), pur); code != 404 {
			t.Fatalf("outcome for another member = %d %v", code, out)
		}
	})
}
