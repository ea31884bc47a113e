package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Page data as a live app has it: each member's paid purchases spread over
// the last 90 days (no two at the same instant), a few members with
// thousands of them, each with its ledger entry and a wallet whose balance
// is their sum, and the planner's statistics up to date (ANALYZE).
const (
	heavyMembers   = 4    // members with heavyPurchases each
	heavyPurchases = 3000 // …
	lightPurchases = 40   // every other member's, on average
)

// seedHistorySQL gives one member n paid purchases, their ledger entries and
// the wallet they add up to, in one statement.
const seedHistorySQL = `
WITH t AS (
	SELECT i, now() - interval '90 days' + i * (interval '90 days' / $4::int) - random() * interval '1 minute' AS at
	  FROM generate_series(1, $4::int) AS i
), p AS (
	INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id,
	                       plan_id, status, payment_id, paid_amount, fulfilled_at, created_at, updated_at)
	SELECT 'pur_seed_' || $1 || '_' || i, $1, $2, $3, 'starter', 100, 499, 'usd', 'ch_seed_' || $1 || '_' || i,
	       'plan_seed', 'paid', 'pay_seed_' || $1 || '_' || i, 499, at, at, at FROM t
), w AS (
	INSERT INTO wallets (experience_id, user_id, balance) VALUES ($2, $1, $4::int * 100) RETURNING id
)
INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key, created_at)
SELECT w.id, 'purchase', 100, t.i * 100, 'pur_seed_' || $1 || '_' || t.i, 'purchase:pur_seed_' || $1 || '_' || t.i, t.at
  FROM w, t ORDER BY t.i`

// seedHistory gives the page's members their history.
func seedHistory(ctx context.Context, pool *pgxpool.Pool, exp, company string, users []string) (purchases int, err error) {
	for i, u := range users {
		n := lightPurchases/2 + (i*7919)%lightPurchases // 20 to 59, spread
		if i < heavyMembers {
			n = heavyPurchases
		}
		if _, err := pool.Exec(ctx, seedHistorySQL, u, exp, company, n); err != nil {
			return purchases, fmt.Errorf("page data for %s: %w", u, err)
		}
		purchases += n
	}
	return purchases, nil
}

// quiesce does before a path is measured what autovacuum and the
// checkpointer would otherwise do in the middle of one of its rounds, on
// whichever side's: vacuum and analyze (the planner's statistics up to
// date, as on a live database) what the last path wrote, and checkpoint.
func quiesce(ctx context.Context, pool *pgxpool.Pool) error {
	for _, stmt := range []string{`VACUUM ANALYZE`, `CHECKPOINT`} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}
