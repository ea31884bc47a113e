//go:build faults

package faults

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/jackc/pgx/v5"
)

// TestWhopFailingDuringPayoutsAndRevenueShare is scenario 4: the sandbox's
// API fails (5xx, then 429 with Retry-After, with latency throughout) while
// revenue-share transfers are due for a storm of purchases and an admin
// sends payouts through both replicas, retrying with the same key as a
// browser would. In the end each share and each payout is paid exactly
// once: one transfer per key at Whop, of its amount, the one our row
// records. Most of its minute is a payout left pending (202) waiting for
// its safety-net job (billing's PayoutRetryAfter, 1 min).
func TestWhopFailingDuringPayoutsAndRevenueShare(t *testing.T) {
	rep := newReport("scenario 4: Whop's API failing during payouts and revenue share")
	defer rep.print()
	s := newStack(t, stackConfig{reconcileEvery: 24 * time.Hour, env: map[string]string{"REVENUE_SHARE_PERCENT": "10"}})
	const purchases, payouts = 300, 20
	w := s.buy(purchases)
	plan := w.stormOrder(4)
	seed := s.env.Seed

	// Whop fails half the API calls, slowly, then rate-limits, then recovers.
	s.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus, f.APILatencyMS = 0.5, 500, 100 })
	s.storm(&plan)
	paid := s.requestPayouts("fault-payout", payouts, 300*time.Millisecond, time.Minute)
	time.Sleep(5 * time.Second)
	s.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureStatus, f.RetryAfterSeconds = 429, 1 })
	time.Sleep(5 * time.Second)
	s.sim.SetFaults(whopsim.Faults{})
	answers := paid()
	ds := s.awaitDeliveries(len(plan.order), 3*time.Minute)

	wantShares := s.count(`SELECT count(*) FROM purchases WHERE status = 'paid' AND company_id <> $1`, seed.Owner.ID)
	s.awaitCount(`SELECT count(*) FROM revenue_shares WHERE status = 'paid'`, wantShares, 3*time.Minute)
	s.awaitCount(`SELECT count(*) FROM payouts WHERE status = 'paid'`, payouts, 3*time.Minute)
	b := s.audit()

	// Each share and payout is exactly one transfer at Whop, of its amount,
	// under its key, and it is the transfer our row records.
	st := s.sandboxState()
	perKey := map[string]int{}
	for _, tr := range st.Transfers {
		perKey[tr.IdempotenceKey]++
	}
	bad := 0
	// A share's transfer carries its decided net amount; a payout's, its amount.
	for table, sent := range map[string]string{"revenue_shares": "transfer_amount", "payouts": "amount"} {
		var key, transferID string
		var amount int64
		s.eachRow(`SELECT transfer_key, COALESCE(`+sent+`, 0), COALESCE(transfer_id, '') FROM `+table,
			[]any{&key, &amount, &transferID}, func() {
				tr, ok := st.Transfers[st.TransferKeys[key]]
				if perKey[key] != 1 || !ok || tr.ID != transferID || tr.Amount != amount {
					bad++
					t.Errorf("%s %s: %d transfers at Whop, ours records %q for %d, Whop's %+v", table, key, perKey[key], transferID, amount, tr)
				}
			})
	}
	attempts := s.jobAttempts()
	rep.add("injected", "API: 50%% of calls failing with 500, then with 429 (Retry-After 1 s), 100 ms latency on all, for 10 s; %d deliveries of %d events", len(plan.order), plan.unique)
	rep.add("payout requests", "%d payouts through both replicas, each retried with its key until answered: statuses %v", payouts, answers)
	rep.add("background jobs", "attempts by kind %v", attempts)
	rep.add("at Whop", "%d transfers: %d revenue shares + %d payouts expected, %d wrong or repeated", len(st.Transfers), wantShares, payouts, bad)
	rep.add("books", "%d paid purchases, %d credits; %d problems", b.PaidPurchases, b.CreditsBought, len(b.Problems))

	if int64(len(st.Transfers)) != wantShares+payouts {
		t.Errorf("%d transfers at Whop, want exactly %d shares + %d payouts", len(st.Transfers), wantShares, payouts)
	}
	if b.PaidPurchases != int64(len(w.purchases)) || ds.GaveUp != 0 {
		t.Errorf("%d of %d purchases paid, %d deliveries given up", b.PaidPurchases, len(w.purchases), ds.GaveUp)
	}
}

// jobAttempts sums the attempts of the background jobs (River's), by kind.
func (s *stack) jobAttempts() map[string]int64 {
	s.t.Helper()
	out := map[string]int64{}
	var kind string
	var n int64
	s.eachRow(`SELECT kind, sum(attempt)::bigint FROM river_job GROUP BY kind`, []any{&kind, &n}, func() { out[kind] = n })
	return out
}

// sandboxTransfers is the part of the sandbox's state scenario 4 reads.
type sandboxTransfers struct {
	Transfers map[string]struct {
		ID             string `json:"id"`
		IdempotenceKey string `json:"idempotence_key"`
		Amount         int64  `json:"amount"`
	} `json:"transfers"`
	TransferKeys map[string]string `json:"transfer_keys"` // idempotence key -> transfer id
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
			s.t.Fatalf("%s = %d after %v, want %d\n%s", sql, n, timeout, want, s.moneyOutState())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// moneyOutState says where the money going out stands, for a wait that
// timed out: the shares and payouts by status, River's transfer jobs by
// kind and state (with their highest attempt and next run), and the
// unfinished transfers with what their job last said. A query that fails
// says so in the text rather than failing the test over the timeout it
// explains.
func (s *stack) moneyOutState() string {
	var b strings.Builder
	each := func(sql string, dest []any, fn func()) {
		rows, _ := s.pool.Query(s.ctx, sql) // a failed query surfaces from ForEachRow
		if _, err := pgx.ForEachRow(rows, dest, func() error { fn(); return nil }); err != nil {
			fmt.Fprintf(&b, "(could not read: %v)\n", err)
		}
	}
	var table, status string
	var n, attempts int64
	each(`SELECT 'revenue_shares', status, count(*), max(attempts) FROM revenue_shares GROUP BY status
		UNION ALL SELECT 'payouts', status, count(*), max(attempts) FROM payouts GROUP BY status ORDER BY 1, 2`,
		[]any{&table, &status, &n, &attempts}, func() {
			fmt.Fprintf(&b, "%s %s: %d (at most %d attempts)\n", table, status, n, attempts)
		})
	var kind, state string
	var next *time.Duration
	each(`SELECT kind, state::text, count(*), max(attempt),
			min(scheduled_at) FILTER (WHERE state IN ('available', 'retryable', 'scheduled')) - now()
		FROM river_job GROUP BY kind, state ORDER BY 1, 2`,
		[]any{&kind, &state, &n, &attempts, &next}, func() {
			fmt.Fprintf(&b, "river %s %s: %d (at most %d attempts", kind, state, n, attempts)
			if next != nil {
				fmt.Fprintf(&b, ", the next due in %v", next.Round(time.Millisecond))
			}
			b.WriteString(")\n")
		})
	var ref, lastError, jobState, jobError string
	each(`SELECT t.kind, t.ref, t.status, t.attempts, t.last_error,
			COALESCE(j.state::text, 'no job'), COALESCE(j.errors[array_upper(j.errors, 1)]->>'error', '')
		FROM (SELECT 'revenue_share' AS kind, payment_id AS ref, status, attempts, last_error FROM revenue_shares WHERE status <> 'paid'
			UNION ALL SELECT 'payout', id, status, attempts, last_error FROM payouts WHERE status <> 'paid') t
		LEFT JOIN river_job j ON j.kind = t.kind AND (j.args->>'payment_id' = t.ref OR j.args->>'payout_id' = t.ref)
		ORDER BY 1, 2 LIMIT 10`,
		[]any{&kind, &ref, &status, &attempts, &lastError, &jobState, &jobError}, func() {
			fmt.Fprintf(&b, "unpaid %s %s: %s after %d attempts (%q); job %s (%q)\n", kind, ref, status, attempts, lastError, jobState, jobError)
		})
	return b.String()
}
