package migrations_test

import (
	"context"
	"slices"
	"testing"

	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5"
)

// TestRefusedTopUpsAreToldFromDeclines applies 000015 to top-ups declined
// before it: only one whose payment the app refused after Whop charged the
// member (a refusal recorded with buyer_charged, whose reason the top-up
// was declined for) becomes 'refused', with the refusal's own reason; a
// refusal that charged nobody, and a card's decline (even beside such a
// refusal of another payment on its purchase), stay declined as they were. 000015's down migration reads a
// refused top-up as the decline it was recorded as.
func TestRefusedTopUpsAreToldFromDeclines(t *testing.T) {
	ctx := context.Background()
	db := dbAt(t, ctx, 14)
	const fixture = `
		INSERT INTO wallets (experience_id, user_id, balance) VALUES ('exp_1', 'user_1', 100);
		INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key) VALUES
			(1, 'purchase', 50, 50, 'pur_1', 'purchase:a'), (1, 'purchase', 20, 70, 'pur_2', 'purchase:b'),
			(1, 'purchase', 20, 90, 'pur_3', 'purchase:c'), (1, 'purchase', 10, 100, 'pur_4', 'purchase:d');
		INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id,
			plan_id, status, failure_reason) VALUES
			('pur_1', 'user_1', 'exp_1', 'biz_1', 'small', 100, 499, 'usd', 'tup_1', 'plan_1', 'failed',
			 'payment refused: payment is for another checkout configuration'),
			('pur_2', 'user_1', 'exp_1', 'biz_1', 'small', 100, 499, 'usd', 'tup_2', 'plan_1', 'failed',
			 'payment refused: payment user is not the purchase''s user'),
			('pur_3', 'user_1', 'exp_1', 'biz_1', 'small', 100, 499, 'usd', 'tup_3', 'plan_1', 'failed',
			 'Your card was declined.'),
			('pur_4', 'user_1', 'exp_1', 'biz_1', 'small', 100, 499, 'usd', 'tup_4', 'plan_1', 'failed',
			 'Your card was declined.');
		INSERT INTO topups (id, wallet_id, crossing_entry_id, purchase_id, threshold, member_id, payment_method_id,
			status, payment_id, failure_reason) VALUES
			('tup_1', 1, 1, 'pur_1', 50, 'mber_1', 'payt_1', 'declined', 'pay_1',
			 'payment refused: payment is for another checkout configuration'),
			('tup_2', 1, 2, 'pur_2', 50, 'mber_1', 'payt_1', 'declined', 'pay_2',
			 'payment refused: payment user is not the purchase''s user'),
			('tup_3', 1, 3, 'pur_3', 50, 'mber_1', 'payt_1', 'declined', 'pay_3', 'Your card was declined.'),
			('tup_4', 1, 4, 'pur_4', 50, 'mber_1', 'payt_1', 'declined', 'pay_4', 'Your card was declined.');
		INSERT INTO payment_rejections (payment_id, purchase_id, source, reason, buyer_charged) VALUES
			('pay_1', 'pur_1', 'topup', 'payment is for another checkout configuration', true),
			('pay_2', 'pur_2', 'topup', 'payment user is not the purchase''s user', false),
			('pay_5', 'pur_4', 'webhook', 'payment amount 100 is below the price 499', true)`
	if _, err := db.Pool.Exec(ctx, fixture); err != nil {
		t.Fatal(err)
	}
	type row struct{ ID, Status, Reason string }
	read := func() []row {
		t.Helper()
		rows, err := db.Pool.Query(ctx, `SELECT id, status, failure_reason FROM topups ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := read()

	if err := migrations.UpTo(ctx, db.URL, 15); err != nil {
		t.Fatalf("up to 000015: %v", err)
	}
	after := read()
	if len(after) != 4 || after[0] != (row{"tup_1", "refused", "payment is for another checkout configuration"}) ||
		after[1] != before[1] || after[2] != before[2] || after[3] != before[3] {
		t.Fatalf("top-ups after 000015 = %+v", after)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE topups SET failure_reason = '' WHERE id = 'tup_1'`); err == nil {
		t.Fatal("a refused top-up was left without its reason")
	}
	// The trigger from then on: a purchase failed for the charged refusal
	// ends its top-up refused; one failed for a card's decline stays a
	// decline, though a charged refusal of another payment is on record.
	for _, c := range []struct {
		id, failure string
		want        row
	}{
		{"5", "payment refused: payment amount 100 is below the price 499",
			row{"tup_5", "refused", "payment amount 100 is below the price 499"}},
		{"6", "Your card was declined.", row{"tup_6", "declined", "Your card was declined."}},
	} {
		if _, err := db.Pool.Exec(ctx, `
			INSERT INTO wallets (experience_id, user_id, balance) VALUES ('exp_1', 'user_`+c.id+`', 1);
			INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
				VALUES ((SELECT id FROM wallets WHERE user_id = 'user_`+c.id+`'), 'purchase', 1, 1, 'pur_0', 'purchase:`+c.id+`');
			INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id, plan_id)
				VALUES ('pur_`+c.id+`', 'user_`+c.id+`', 'exp_1', 'biz_1', 'small', 100, 499, 'usd', 'tup_`+c.id+`', 'plan_1');
			INSERT INTO topups (id, wallet_id, crossing_entry_id, purchase_id, threshold, member_id, payment_method_id, status)
				VALUES ('tup_`+c.id+`', (SELECT id FROM wallets WHERE user_id = 'user_`+c.id+`'),
				        (SELECT max(id) FROM ledger_entries), 'pur_`+c.id+`', 50, 'mber_1', 'payt_1', 'charging');
			INSERT INTO payment_rejections (payment_id, purchase_id, source, reason, buyer_charged)
				VALUES ('pay_new`+c.id+`', 'pur_`+c.id+`', 'topup', 'payment amount 100 is below the price 499', true)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `UPDATE purchases SET status = 'failed', failure_reason = $1 WHERE id = $2`,
			c.failure, "pur_"+c.id); err != nil {
			t.Fatal(err)
		}
		var got row
		if err := db.Pool.QueryRow(ctx, `SELECT id, status, failure_reason FROM topups WHERE id = 'tup_`+c.id+`'`).
			Scan(&got.ID, &got.Status, &got.Reason); err != nil || got != c.want {
			t.Errorf("top-up after its purchase failed for %q = %+v, %v; want %+v", c.failure, got, err, c.want)
		}
	}

	if err := migrations.Down(ctx, db.URL, 1); err != nil {
		t.Fatalf("down from 000015: %v", err)
	}
	want := append(before, row{"tup_5", "declined", "payment refused: payment amount 100 is below the price 499"},
		row{"tup_6", "declined", "Your card was declined."})
	if got := read(); !slices.Equal(got, want) {
		t.Fatalf("top-ups after 000015's down = %+v, want %+v", got, want)
	}
}
