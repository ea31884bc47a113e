//go:build faults

package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestWhopFailingDuringPayoutsAndRevenueShare is scenario 4: the sandbox's
// API fails (5xx, then 429 with Retry-After, with latency throughout) while
// revenue-share transfers are due for a storm of purchases and an admin
// sends payouts through both replicas, retrying with the same key as a
// browser would. In the end each share and each payout is paid exactly
// once: one transfer per key at Whop, balances moved once.
//
// It is written against the HTTP and SQL surface of issue 7 (payouts and
// the revenue share), which is built on another branch, and skips until
// that is merged.
func TestWhopFailingDuringPayoutsAndRevenueShare(t *testing.T) {
	rep := newReport("scenario 4: Whop's API failing during payouts and revenue share")
	defer rep.print()
	s := newStack(t, stackConfig{reconcileEvery: 24 * time.Hour, env: map[string]string{"REVENUE_SHARE_PERCENT": "10"}})
	if s.count(`SELECT count(*) FROM pg_tables WHERE tablename IN ('payouts', 'revenue_shares')`) != 2 {
		rep.add("skipped", "needs issue 7 (payouts, revenue share)")
		t.Skip("needs issue 7 (payouts, revenue share)")
	}
	const purchases, payouts = 300, 20
	w := s.buy(purchases)
	plan := w.stormOrder(4)
	seed := s.env.Seed

	// Whop fails half the API calls, slowly, then rate-limits, then recovers.
	s.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus, f.APILatencyMS = 0.5, 500, 100 })
	s.storm(&plan)
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[int]int{}
	for i := range payouts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := map[string]any{"company_id": seed.Creator.ID, "recipient": seed.Members[0].Username,
				"amount": "1.00", "idempotency_key": fmt.Sprintf("fault-payout-%d", i)}
			for try := 0; try < 5; try++ { // the admin's browser retries with the same key
				code, _, _ := s.call(s.replicas()[(i+try)%2], "POST", "/api/payouts", seed.Admin.ID, body)
				mu.Lock()
				answers[code]++
				mu.Unlock()
				if code == http.StatusOK || code == http.StatusAccepted {
					return
				}
				time.Sleep(300 * time.Millisecond)
			}
		}()
	}
	time.Sleep(5 * time.Second)
	s.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureStatus, f.RetryAfterSeconds = 429, 1 })
	time.Sleep(5 * time.Second)
	wg.Wait()
	s.sim.SetFaults(whopsim.Faults{})
	ds := s.awaitDeliveries(len(plan.order), 3*time.Minute)

	wantShares := s.count(`SELECT count(*) FROM purchases WHERE status = 'paid' AND company_id <> $1`, seed.Owner.ID)
	s.awaitCount(`SELECT count(*) FROM revenue_shares WHERE status = 'paid'`, wantShares, 3*time.Minute)
	s.awaitCount(`SELECT count(*) FROM payouts WHERE status = 'paid'`, payouts, 3*time.Minute)
	b := s.audit()

	st := s.sandboxState()
	perKey := map[string]int{}
	for _, tr := range st.Transfers {
		perKey[tr.IdempotenceKey]++
	}
	twice := 0
	for _, n := range perKey {
		if n > 1 {
			twice++
		}
	}
	shareKeys := s.count(`SELECT count(*) FROM revenue_shares WHERE transfer_id IS NOT NULL`)
	rep.add("injected", "API: 50%% failing with 500, then 429 (Retry-After 1 s), 100 ms latency, for 10 s; %d deliveries of %d events", len(plan.order), plan.unique)
	rep.add("payout requests", "%d payouts, answers %v", payouts, answers)
	rep.add("sender", "%d delivered, %d gave up", ds.Delivered, ds.GaveUp)
	rep.add("at Whop", "%d transfers, %d keys used more than once; shares paid %d of %d", len(st.Transfers), twice, shareKeys, wantShares)
	rep.add("books", "%d paid purchases, %d problems", b.PaidPurchases, len(b.Problems))

	if twice != 0 || int64(len(st.Transfers)) != wantShares+payouts {
		t.Errorf("%d transfers at Whop (%d keys paid twice), want exactly %d shares + %d payouts", len(st.Transfers), twice, wantShares, payouts)
	}
}

// sandboxTransfers is the part of the sandbox's state scenario 4 reads.
type sandboxTransfers struct {
	Transfers map[string]struct {
		IdempotenceKey string `json:"idempotence_key"`
		Amount         int64  `json:"amount"`
	} `json:"transfers"`
}

// sandboxState reads the sandbox's state through its control API.
func (s *stack) sandboxState() sandboxTransfers {
	s.t.Helper()
	res, err := s.client.Get(s.env.URL + "/_sim/state")
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var st sandboxTransfers
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

// awaitCount waits until a counting query reaches want.
func (s *stack) awaitCount(sql string, want int64, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := s.count(sql)
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s = %d after %v, want %d", sql, n, timeout, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
