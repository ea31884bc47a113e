package migrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/migrations"
)

// TestPaymentStatesStartFromWhatPurchasesKept applies 000017 to purchases
// 000016 gave a payment and time: a failed one's failure becomes its
// payment's first kept state, with its reason. A processing one's is not
// carried over (000016 may name the payment before the one under way), a
// paid purchase's earlier state neither (paid is final), nor a state with
// no payment. A payment refused although it charged the buyer is kept as
// refused, with its first reason and no time, over a failure kept.
func TestPaymentStatesStartFromWhatPurchasesKept(t *testing.T) {
	ctx := context.Background()
	db := dbAt(t, ctx, 16)
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id,
			plan_id, status, failure_reason, attempt_payment_id, attempt_at) VALUES
			('pur_failed', 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_1', 'plan_1', 'failed', 'card declined', 'pay_1', $1),
			('pur_pending', 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_2', 'plan_1', 'processing', '', 'pay_2', $1::timestamptz + interval '1 second'),
			('pur_old', 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_4', 'plan_1', 'failed', 'expired card', NULL, NULL),
			('pur_twice', 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_5', 'plan_1', 'failed', 'expired card', 'pay_8', $1)`,
		at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id,
			plan_id, status, payment_id, paid_amount, fulfilled_at, attempt_payment_id, attempt_at)
		VALUES ('pur_paid', 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_3', 'plan_1', 'paid', 'pay_4', 499, now(), 'pay_3', $1)`,
		at); err != nil {
		t.Fatal(err)
	}
	// Refusals: one that charged the buyer (twice over, the first reason
	// kept), on a payment with a state and on one without; one that did not.
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO payment_rejections (payment_id, purchase_id, source, reason, buyer_charged) VALUES
			('pay_6', 'pur_old', 'webhook', 'payment amount 100 is below the price 499', true),
			('pay_6', 'pur_old', 'return', 'payment is disputed (dispute_warning)', true),
			('pay_7', 'pur_old', 'webhook', 'payment user is not the purchase''s user', false),
			('pay_1', 'pur_failed', 'webhook', 'payment is disputed (dispute_warning)', true)`); err != nil {
		t.Fatal(err)
	}
	if err := migrations.UpTo(ctx, db.URL, 17); err != nil {
		t.Fatalf("up to 000017: %v", err)
	}
	type kept struct {
		Purchase, Payment, Status, Reason string
		At                                time.Time
	}
	rows, _ := db.Pool.Query(ctx, `SELECT purchase_id, payment_id, status, reason, COALESCE(at, '0001-01-01 00:00:00+00')
		FROM purchase_payment_states ORDER BY purchase_id, payment_id`)
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[kept])
	if err != nil {
		t.Fatal(err)
	}
	want := []kept{
		{"pur_failed", "pay_1", "refused", "payment is disputed (dispute_warning)", time.Time{}},
		{"pur_old", "pay_6", "refused", "payment amount 100 is below the price 499", time.Time{}},
		{"pur_twice", "pay_8", "failed", "expired card", at},
	}
	if len(got) != len(want) {
		t.Fatalf("payment states = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Purchase != want[i].Purchase || got[i].Payment != want[i].Payment || got[i].Status != want[i].Status ||
			got[i].Reason != want[i].Reason || !got[i].At.Equal(want[i].At) {
			t.Errorf("payment state %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// 17 lets a purchase name a payment whose state had no time; going
	// back to 16, whose check wants both or neither, forgets the payment.
	if _, err := db.Pool.Exec(ctx, `UPDATE purchases SET attempt_payment_id = 'pay_5', attempt_at = NULL WHERE id = 'pur_old'`); err != nil {
		t.Fatalf("a payment without a time after 000017: %v", err)
	}
	if err := migrations.Down(ctx, db.URL, 1); err != nil {
		t.Fatalf("down to 000016: %v", err)
	}
	var pay, old *string
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT attempt_payment_id FROM purchases WHERE id = 'pur_old'),
		(SELECT attempt_payment_id FROM purchases WHERE id = 'pur_failed')`).Scan(&old, &pay); err != nil {
		t.Fatal(err)
	}
	if old != nil || pay == nil || *pay != "pay_1" {
		t.Fatalf("after down: pur_old names %v, pur_failed %v; want nothing and pay_1", old, pay)
	}
}
