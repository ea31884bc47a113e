package migrations_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5"
)

// TestGrantsMigrationLogsEveryEarlierRefund applies 000010 to refunds
// settled before it: each refund entry gets its row of the refund log,
// dated as the entry, the purchase's newest one carrying the money (only
// its total was kept), and a refund of money alone gets a row of its own.
// Refunds settled afterwards are logged by the trigger, with their money.
func TestGrantsMigrationLogsEveryEarlierRefund(t *testing.T) {
	ctx := context.Background()
	db := dbAt(t, ctx, 9)
	purchase := func(id string, refundedAmount, refundedCredits int) string {
		return `INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id,
			plan_id, status, payment_id, paid_amount, refunded_amount, refunded_credits, fulfilled_at)
			VALUES ('` + id + `', 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_` + id + `', 'plan_1', 'paid',
			'pay_` + id + `', 499, ` + strconv.Itoa(refundedAmount) + `, ` + strconv.Itoa(refundedCredits) + `, now())`
	}
	for _, sql := range []string{
		purchase("pur_a", 400, 81) + ";" + purchase("pur_b", 1, 0),
		// One string is one transaction, as the deferred wallet check needs:
		// pur_a bought, refunded twice (21 credits, then 60 more).
		`INSERT INTO wallets (experience_id, user_id, balance) VALUES ('exp_1', 'user_1', 119);
		 INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key, created_at) VALUES
			(1, 'purchase', 100, 100, 'pur_a', 'purchase:pur_a', now() - interval '3 days'),
			(1, 'purchase', 100, 200, 'pur_b', 'purchase:pur_b', now() - interval '3 days'),
			(1, 'refund', -21, 179, 'pay_pur_a', 'refund:pur_a:21', now() - interval '2 days'),
			(1, 'refund', -60, 119, 'pay_pur_a', 'refund:pur_a:81', now() - interval '1 day')`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up: %v", err)
	}
	type logRow struct {
		Purchase                 string
		Amount, Credits, Running int64
		AtEntry                  bool
	}
	read := func() []logRow {
		rows, err := db.Pool.Query(ctx, `SELECT r.purchase_id, r.amount, r.credits, r.refunded_credits,
			EXISTS (SELECT 1 FROM ledger_entries e WHERE e.created_at = r.created_at
			         AND e.idempotency_key = 'refund:' || r.purchase_id || ':' || r.refunded_credits)
			FROM purchase_refunds r ORDER BY r.id`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[logRow])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := []logRow{{"pur_a", 0, 21, 21, true}, {"pur_a", 400, 60, 81, true}, {"pur_b", 1, 0, 0, false}}
	if got := read(); !slices.Equal(got, want) {
		t.Fatalf("refund log after 000010 = %+v\nwant %+v", got, want)
	}
	// A refund settled now is logged with its own money.
	if _, err := db.Pool.Exec(ctx, `
		UPDATE wallets SET balance = balance - 19 WHERE id = 1;
		INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
			VALUES (1, 'refund', -19, 100, 'pay_pur_a', 'refund:pur_a:100');
		UPDATE purchases SET refunded_amount = 499, refunded_credits = 100 WHERE id = 'pur_a'`); err != nil {
		t.Fatal(err)
	}
	want = append(want, logRow{"pur_a", 99, 19, 100, true})
	if got := read(); !slices.Equal(got, want) {
		t.Fatalf("refund log after a new refund = %+v\nwant %+v", got, want)
	}
}
