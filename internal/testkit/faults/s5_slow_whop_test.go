//go:build faults

package faults

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// Scenario 5's sizes: the work pending at a slow Whop, and each storm.
const (
	slowShares    = 50
	slowPayouts   = 10
	slowStorm     = 1000
	slowLatencyMS = 5000
	slowHangRate  = 0.1
	// slowFor is how long Whop stays slow at least: past the app's Whop
	// client timeout (30 s), so a hung call's timeout and retry happen in it.
	slowFor = 40 * time.Second
)

// TestSlowWhopHoldsNothing is scenario 5: Whop's transfer API answers after
// 5 s, and one call in ten not at all until the client gives up, while 50
// revenue shares and 10 payouts are pending and a storm of webhooks
// arrives. Nothing of ours may wait with Whop: no session idle in a
// transaction for more than a second (pg_stat_activity, sampled
// throughout), the replicas' pools never run out, and the storm's webhook
// p99 stays within twice that of the same storm against a fast Whop. Once
// Whop is quick again, every transfer has been made exactly once.
func TestSlowWhopHoldsNothing(t *testing.T) {
	rep := newReport("scenario 5: a slow Whop (transfers after 5 s, one in ten never answered)")
	defer rep.print()
	s := newStack(t, stackConfig{reconcileEvery: 24 * time.Hour, env: map[string]string{"REVENUE_SHARE_PERCENT": "10"}})

	// The same storm twice: first against a fast Whop, for the baseline.
	fast := s.timedStorm(slowStorm, 5)
	s.awaitTransfersDone(3 * time.Minute)

	// Whop slows down; work is pending when the storm arrives.
	s.sim.UpdateFaults(func(f *whopsim.Faults) {
		f.TransferLatencyMS, f.TransferHangRate = slowLatencyMS, slowHangRate
	})
	sampler := s.sampleHolding(200 * time.Millisecond)
	slowFrom := time.Now()
	s.pendingShares(slowShares)
	paid := s.requestPayouts("slow-payout", slowPayouts, 0, 2*time.Minute)
	s.awaitCount(`SELECT count(*) FROM payouts`, slowPayouts, 30*time.Second) // recorded, their transfers out at Whop
	pendingAtStorm := s.count(`SELECT (SELECT count(*) FROM revenue_shares WHERE status = 'pending')
		+ (SELECT count(*) FROM payouts WHERE status = 'pending')`)
	slow := s.timedStorm(slowStorm, 6)
	answers := paid()
	// Whop stays slow past the client's timeout, so calls left hanging
	// reach it and are retried while the sampler watches.
	for time.Since(slowFrom) < slowFor {
		time.Sleep(100 * time.Millisecond)
	}
	slowTook := time.Since(slowFrom)
	s.sim.SetFaults(whopsim.Faults{})
	held := sampler.stop()

	// Whop is quick again: every share and payout ends paid, once.
	s.awaitTransfersDone(4 * time.Minute)
	b := s.audit()
	st := s.sandboxState()
	perKey := map[string]int{}
	for _, tr := range st.Transfers {
		perKey[tr.IdempotenceKey]++
	}
	var rows, wrong int64
	for table, sent := range map[string]string{"revenue_shares": "transfer_amount", "payouts": "amount"} {
		var key, transferID string
		var amount int64
		s.eachRow(`SELECT transfer_key, COALESCE(`+sent+`, 0), COALESCE(transfer_id, '') FROM `+table,
			[]any{&key, &amount, &transferID}, func() {
				rows++
				tr, ok := st.Transfers[st.TransferKeys[key]]
				if perKey[key] != 1 || !ok || tr.ID != transferID || tr.Amount != amount {
					wrong++
					t.Errorf("%s %s: %d transfers at Whop, ours records %q for %d, Whop's %+v", table, key, perKey[key], transferID, amount, tr)
				}
			})
	}
	jobs := s.jobRuns()
	hung := s.a.countLog(transferTimedOut) + s.b.countLog(transferTimedOut)

	rep.add("injected", "POST /transfers answered after %d ms, %.0f%% of them never (until the client's 30 s timeout), for %.1f s; %d revenue shares and %d payouts pending (%d rows pending as the storm began)",
		slowLatencyMS, 100*slowHangRate, slowTook.Seconds(), slowShares, slowPayouts, pendingAtStorm)
	rep.add("storms", "%d deliveries each (%d events, a third duplicated, 16 at a time); fast Whop: p50 %v p99 %v max %v; slow Whop: p50 %v p99 %v max %v (p99 ratio %.2f)",
		slow.deliveries, slowStorm, fast.p50, fast.p99, fast.max, slow.p50, slow.p99, slow.max, float64(slow.p99)/float64(fast.p99))
	rep.add("held while Whop was slow", "%d samples of pg_stat_activity: longest idle in transaction %.3f s, longest open transaction %.3f s, at most %d sessions; pools: at most %d of %d connections in use (A), %d of %d (B); %.3f s spent waiting for a connection (A+B)",
		held.samples, held.maxIdleInTx, held.maxTxAge, held.maxSessions, held.maxAcquired[0], held.maxConns[0], held.maxAcquired[1], held.maxConns[1], held.waited)
	rep.add("hung calls", "%d transfer calls timed out at the app's Whop client (no answer in 30 s) and were retried with their key", hung)
	rep.add("payout requests", "%d payouts through both replicas while Whop was slow, retried with their key until answered: statuses %v", slowPayouts, answers)
	rep.add("River jobs", "%v", jobs)
	rep.add("at Whop", "%d transfers for %d shares and payouts; %d wrong or repeated", len(st.Transfers), rows, wrong)
	rep.add("books", "%d paid purchases, %d credits; %d problems", b.PaidPurchases, b.CreditsBought, len(b.Problems))

	if hung == 0 {
		t.Errorf("no transfer call hung until the client's timeout: the fault did not bite")
	}
	if held.maxIdleInTx > 1 {
		t.Errorf("a session sat idle in a transaction for %.3f s while Whop was slow: want at most 1 s", held.maxIdleInTx)
	}
	for i := range 2 {
		if held.maxConns[i] == 0 || held.maxAcquired[i] >= held.maxConns[i] {
			t.Errorf("replica %d's pool reached %d of %d connections: exhausted", i, held.maxAcquired[i], held.maxConns[i])
		}
	}
	if slow.p99 > 2*fast.p99 {
		t.Errorf("webhook p99 %v with a slow Whop, %v with a fast one: want within 2×", slow.p99, fast.p99)
	}
	if int64(len(st.Transfers)) != rows || wrong != 0 || rows < slowShares+slowPayouts {
		t.Errorf("%d transfers at Whop for %d rows, %d wrong: want exactly one each", len(st.Transfers), rows, wrong)
	}
	if slow.gaveUp+fast.gaveUp != 0 || slow.notOK+fast.notOK != 0 {
		t.Errorf("storms: %d + %d deliveries given up, %d + %d answered other than 2xx", fast.gaveUp, slow.gaveUp, fast.notOK, slow.notOK)
	}
}

// stormTiming is one storm's webhook latencies at the balancer.
type stormTiming struct {
	deliveries, gaveUp, notOK int
	p50, p99, max             time.Duration
}

// timedStorm buys n packages, sends their shuffled, duplicated storm and
// waits until every delivery is answered; it returns how long Whop's
// deliveries waited for their answers.
func (s *stack) timedStorm(n int, seed uint64) stormTiming {
	s.t.Helper()
	w := s.buy(n)
	plan := w.stormOrder(seed)
	_, before := s.lb.snapshot()
	from := s.lb.answered()
	seen := deliveryStatsOf(s.sim.Deliveries(), s.hook)
	s.storm(&plan)
	ds := s.awaitDeliveries(seen.Deliveries+len(plan.order), 3*time.Minute)
	_, after := s.lb.snapshot()
	took := s.lb.latencies(from)
	slices.Sort(took)
	pct := func(p float64) time.Duration {
		if len(took) == 0 {
			return 0
		}
		return took[min(len(took)-1, int(p*float64(len(took))))]
	}
	return stormTiming{deliveries: len(took), gaveUp: ds.GaveUp - seen.GaveUp,
		notOK: (after.ServerError + after.Other + after.Unreachable) - (before.ServerError + before.Other + before.Unreachable),
		p50:   pct(0.50), p99: pct(0.99), max: took[len(took)-1]}
}

// pendingShares makes n credit sales in the creator's experience and
// delivers their webhooks, so n revenue shares and their jobs are recorded.
func (s *stack) pendingShares(n int) {
	s.t.Helper()
	seed := s.env.Seed
	before := s.count(`SELECT count(*) FROM revenue_shares`)
	s.sim.SetWebhook("", whopsim.Standard)
	var events []string
	for i := range n {
		user := seed.Members[i%len(seed.Members)].ID
		code, out, raw := s.call(s.replicas()[i%2], "POST", "/api/charge", user,
			map[string]string{"experience_id": seed.Creator.ExperienceID, "package": "starter"})
		if code != 200 {
			s.t.Fatalf("charge: %d %s", code, raw)
		}
		seen := len(s.sim.Events())
		if _, err := s.sim.Pay(whopsim.Purchase{CheckoutID: out["id"].(string), PlanID: out["planId"].(string), UserID: user}); err != nil {
			s.t.Fatal(err)
		}
		for _, ev := range s.sim.Events()[seen:] {
			if ev.Type == "payment.succeeded" {
				events = append(events, ev.ID)
			}
		}
	}
	s.sim.SetWebhook(s.hook, whopsim.Standard)
	if err := s.sim.Deliver(events, false); err != nil {
		s.t.Fatal(err)
	}
	s.awaitCount(`SELECT count(*) FROM revenue_shares`, before+int64(n), time.Minute)
}

// awaitTransfersDone waits until no revenue share or payout is pending.
func (s *stack) awaitTransfersDone(timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := s.count(`SELECT (SELECT count(*) FROM revenue_shares WHERE status = 'pending')
			+ (SELECT count(*) FROM payouts WHERE status = 'pending')`)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%d shares and payouts still pending after %v", n, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// transferTimedOut matches the Whop client's log line for a transfer call
// that got no answer before the client's timeout.
var transferTimedOut = regexp.MustCompile(`"msg":"whop: retrying request".*transfers.*Client\.Timeout exceeded`)
