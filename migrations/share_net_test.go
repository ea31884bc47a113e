package migrations_test

import (
	"context"
	"testing"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/migrations"
)

// TestShareNetKeepsWhatWasSent applies 000006 to shares written before it:
// every attempt made then sent the whole share, so a share tried before
// (paid, or pending and to be retried) keeps that as its transfer amount,
// and one never tried is left for the job to decide.
func TestShareNetKeepsWhatWasSent(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := migrations.Down(ctx, db.URL, 1); err != nil {
		t.Fatalf("down to 000005: %v", err)
	}
	for _, sql := range []string{
		`INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency,
		                        checkout_id, plan_id, status, payment_id, paid_amount, fulfilled_at)
		 SELECT 'pur_' || x, 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_' || x, 'plan_1',
		        'paid', 'pay_' || x, 499, now()
		   FROM unnest(ARRAY['paid', 'retried', 'untried']) AS x`,
		`INSERT INTO revenue_shares (payment_id, purchase_id, from_company_id, to_company_id, basis_points,
		                             base_amount, amount, currency, transfer_key, status, transfer_id, charged_fee,
		                             attempts, last_error, finished_at)
		 VALUES ('pay_paid', 'pur_paid', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_paid',
		         'paid', 'ctt_1', 25, 2, '', now()),
		        ('pay_retried', 'pur_retried', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_retried',
		         'pending', NULL, NULL, 3, 'whop: 503', NULL),
		        ('pay_untried', 'pur_untried', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_untried',
		         'pending', NULL, NULL, 0, '', NULL)`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up: %v", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT payment_id, status, COALESCE(transfer_amount, -1) FROM revenue_shares ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := []struct {
		payment, status string
		amount          int64
	}{{"pay_paid", "paid", 62}, {"pay_retried", "pending", 62}, {"pay_untried", "pending", -1}}
	i := 0
	for ; rows.Next(); i++ {
		var payment, status string
		var amount int64
		if err := rows.Scan(&payment, &status, &amount); err != nil {
			t.Fatal(err)
		}
		if w := want[i]; payment != w.payment || status != w.status || amount != w.amount {
			t.Errorf("share %d = %s %s %d, want %+v", i, payment, status, amount, w)
		}
	}
	if i != len(want) {
		t.Fatalf("%d shares after the migration, want %d", i, len(want))
	}
}
