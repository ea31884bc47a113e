package migrations_test

import (
	"context"
	"slices"
	"testing"

	"github.com/creditkit/creditkit/migrations"
)

// TestRefundPositionPlacesEveryRefundOfMoneyAlone applies 000020 to a
// refund log kept before it: a refund of money alone gets the wallet's
// newest entry at its time, one that took back credits gets none (its
// entry places it). Afterwards the trigger records the place with the
// refund: the wallet's newest entry then.
func TestRefundPositionPlacesEveryRefundOfMoneyAlone(t *testing.T) {
	ctx := context.Background()
	db := dbAt(t, ctx, 19)
	for _, sql := range []string{
		`INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id,
			plan_id, status, payment_id, paid_amount, refunded_amount, refunded_credits, fulfilled_at)
			VALUES ('pur_a', 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_a', 'plan_1', 'paid', 'pay_a', 499,
			151, 31, now() - interval '3 days')`,
		// The purchase, its refund of 31 credits, a spend; the log's rows:
		// the 31 credits (with their entry), then a cent alone between the
		// refund and the spend.
		`INSERT INTO wallets (experience_id, user_id, balance) VALUES ('exp_1', 'user_1', 59);
		 INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key, created_at) VALUES
			(1, 'purchase', 100, 100, 'pur_a', 'purchase:pur_a', now() - interval '3 days'),
			(1, 'refund', -31, 69, 'pay_a', 'refund:pur_a:31', now() - interval '2 days'),
			(1, 'spend', -10, 59, 'item', 'spend:1', now() - interval '1 hour');
		 INSERT INTO purchase_refunds (purchase_id, amount, credits, refunded_credits, created_at) VALUES
			('pur_a', 150, 31, 31, now() - interval '2 days'),
			('pur_a', 1, 0, 31, now() - interval '1 day')`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up: %v", err)
	}
	places := func() []string {
		var out []string
		rows, err := db.Pool.Query(ctx, `SELECT r.amount || '@' || COALESCE(e.idempotency_key, '-')
			FROM purchase_refunds r LEFT JOIN ledger_entries e ON e.id = r.after_entry_id ORDER BY r.id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	if got, want := places(), []string{"150@-", "1@refund:pur_a:31"}; !slices.Equal(got, want) {
		t.Fatalf("places after 000020 = %q, want %q", got, want)
	}
	// A cent more refunded now, money alone: after the spend, the newest.
	if _, err := db.Pool.Exec(ctx, `UPDATE purchases SET refunded_amount = 152 WHERE id = 'pur_a'`); err != nil {
		t.Fatal(err)
	}
	if got, want := places(), []string{"150@-", "1@refund:pur_a:31", "1@spend:1"}; !slices.Equal(got, want) {
		t.Fatalf("places after a refund of money alone = %q, want %q", got, want)
	}
}
