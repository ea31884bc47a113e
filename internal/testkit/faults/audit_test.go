//go:build faults

package faults

import (
	"fmt"
	"strings"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/whop"
)

// books is what the audit counted.
type books struct {
	Wallets        int64
	Balances       int64 // sum of every balance
	PaidPurchases  int64
	CreditsBought  int64 // purchase entries
	Spends         int64
	CreditsSpent   int64
	PaidAtWhop     int64 // paid payments of ours the sandbox holds
	WebhookCredits int64 // purchases the webhooks fulfilled (not confirm, not the reconciler)
	Reconciled     int64 // purchases the reconciler fulfilled
	Problems       []string
}

// audit checks the books the way a bank would, from the database and from
// Whop's side independently, and fails the test on any discrepancy:
//
//   - every wallet's balance equals the sum of its ledger entries, and
//     equals what its paid purchases, refunds and spends say it should;
//   - no spend made a balance negative (spends and spend entries alike);
//   - every paid purchase has exactly one purchase entry of its credits, and
//     nothing else has one;
//   - no delivery is left half-processed;
//   - every payment the sandbox holds as paid for one of our purchases has
//     that purchase paid by that payment, and the other way round.
func (s *stack) audit() books {
	s.t.Helper()
	var b books
	bad := func(what string, n int64) {
		if n != 0 {
			b.Problems = append(b.Problems, fmt.Sprintf("%s: %d", what, n))
		}
	}
	mism, err := s.store.CheckBalances(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	bad("wallets whose balance is not their ledger sum (CheckBalances)", int64(len(mism)))

	bad("wallets whose balance is not purchases − refunds − spends + grants − expiries", s.count(`
		SELECT count(*) FROM wallets w
		 WHERE w.balance <> COALESCE((SELECT sum(p.credits - p.refunded_credits) FROM purchases p
		                               WHERE p.experience_id = w.experience_id AND p.user_id = w.user_id
		                                 AND p.status = 'paid'), 0)
		                  - COALESCE((SELECT sum(sp.cost) FROM spends sp WHERE sp.wallet_id = w.id), 0)
		                  + COALESCE((SELECT sum(e.amount) FROM ledger_entries e
		                               WHERE e.wallet_id = w.id AND e.kind IN ('grant', 'adjustment', 'expiry')), 0)`))
	grants, err := s.store.CheckGrants(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	bad("grants whose spent counter is not their spends (CheckGrants)", int64(len(grants)))
	bad("spends that left a negative balance", s.count(`SELECT count(*) FROM spends WHERE balance_after < 0`))
	bad("spend entries with a negative balance after", s.count(
		`SELECT count(*) FROM ledger_entries WHERE kind = 'spend' AND balance_after < 0`))
	bad("spends whose entry disagrees with them", s.count(`
		SELECT count(*) FROM spends sp JOIN ledger_entries e ON e.id = sp.ledger_entry_id
		 WHERE e.amount <> -sp.cost OR e.balance_after <> sp.balance_after OR e.wallet_id <> sp.wallet_id`))
	bad("paid purchases without exactly one purchase entry of their credits", s.count(`
		SELECT count(*) FROM purchases p
		 WHERE p.status = 'paid' AND (SELECT count(*) FROM ledger_entries e
		        WHERE e.idempotency_key = 'purchase:' || p.id AND e.kind = 'purchase' AND e.amount = p.credits) <> 1`))
	bad("purchase entries without a paid purchase", s.count(`
		SELECT count(*) FROM ledger_entries e
		 WHERE e.kind = 'purchase' AND NOT EXISTS (SELECT 1 FROM purchases p
		        WHERE p.status = 'paid' AND e.idempotency_key = 'purchase:' || p.id)`))
	bad("deliveries left in state 'processing'", s.count(
		`SELECT count(*) FROM webhook_deliveries WHERE outcome = 'processing'`))

	b.Wallets = s.count(`SELECT count(*) FROM wallets`)
	b.Balances = s.count(`SELECT COALESCE(sum(balance), 0) FROM wallets`)
	b.PaidPurchases = s.count(`SELECT count(*) FROM purchases WHERE status = 'paid'`)
	b.CreditsBought = s.count(`SELECT COALESCE(sum(amount), 0) FROM ledger_entries WHERE kind = 'purchase'`)
	b.Spends = s.count(`SELECT count(*) FROM spends`)
	b.CreditsSpent = s.count(`SELECT COALESCE(sum(cost), 0) FROM spends`)
	b.WebhookCredits = s.count(`SELECT count(*) FROM webhook_deliveries WHERE outcome LIKE 'fulfilled%'`)
	b.Reconciled = s.count(`SELECT COALESCE(sum(credited), 0) FROM reconciler_runs`)

	// Whop's side: every payment it holds as paid for one of our purchases.
	paid := map[string]string{} // purchase -> payment
	for p, err := range s.whop.ListPayments(s.ctx, whop.ListPaymentsParams{
		CompanyID: s.env.Seed.Owner.ID, Statuses: []whop.PaymentStatus{whop.PaymentPaid}, PageSize: 100,
	}) {
		if err != nil {
			s.t.Fatalf("audit: list Whop's payments: %v", err)
		}
		if id := p.Metadata[billing.MetaPurchaseID]; id != "" {
			paid[id] = p.ID
		}
	}
	b.PaidAtWhop = int64(len(paid))
	var unpaidAtWhop, notPaidHere, wrongPayment int64
	ours := map[string]bool{}
	var id, payment string
	s.eachRow(`SELECT id, payment_id FROM purchases WHERE status = 'paid'`, []any{&id, &payment}, func() {
		ours[id] = true
		switch at, ok := paid[id]; {
		case !ok:
			unpaidAtWhop++
		case at != payment:
			wrongPayment++
		}
	})
	for id := range paid {
		if !ours[id] {
			notPaidHere++
		}
	}
	bad("purchases paid here that Whop does not hold as paid", unpaidAtWhop)
	bad("purchases paid by another payment than Whop's", wrongPayment)
	bad("payments Whop holds as paid whose purchase is not paid here", notPaidHere)

	if len(b.Problems) > 0 {
		s.t.Errorf("the books do not balance:\n  %s", strings.Join(b.Problems, "\n  "))
	}
	return b
}

// walletBalances returns every wallet's balance.
func (s *stack) walletBalances() map[wallet]int64 {
	s.t.Helper()
	out := map[wallet]int64{}
	var w wallet
	var bal int64
	s.eachRow(`SELECT user_id, experience_id, balance FROM wallets`, []any{&w.user, &w.experience, &bal},
		func() { out[w] = bal })
	return out
}
