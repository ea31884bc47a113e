package migrations_test

import (
	"context"
	"testing"

	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/migrations"
)

// TestShareNetKeepsWhatWasSent applies 000006 to shares written before it:
// every attempt made then sent the whole share, so a share tried before
// (paid, or pending and to be retried) keeps that as its transfer amount,
// and one never tried is left for the job to decide.
func TestShareNetKeepsWhatWasSent(t *testing.T) {
	ctx := context.Background()
	db := before000006(t, ctx, []string{"paid", "retried", "untried"},
		`INSERT INTO revenue_shares (payment_id, purchase_id, from_company_id, to_company_id, basis_points,
		                             base_amount, amount, currency, transfer_key, status, transfer_id, charged_fee,
		                             attempts, last_error, finished_at)
		 VALUES ('pay_paid', 'pur_paid', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_paid',
		         'paid', 'ctt_1', 25, 2, '', now()),
		        ('pay_retried', 'pur_retried', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_retried',
		         'pending', NULL, NULL, 3, 'whop: 503', NULL),
		        ('pay_untried', 'pur_untried', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_untried',
		         'pending', NULL, NULL, 0, '', NULL)`,
	)
	if err := migrations.UpTo(ctx, db.URL, 6); err != nil {
		t.Fatalf("up to 000006: %v", err)
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
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(want) {
		t.Fatalf("%d shares after the migration, want %d", i, len(want))
	}
}

// TestShareNetRevivesStrandedJobs: a payout or share job discarded after
// the old 20 attempts while its row is still pending goes back to work with
// the new limit, as do waiting ones; finished rows' jobs and other kinds are
// left alone, and new jobs get 1,000 attempts.
func TestShareNetRevivesStrandedJobs(t *testing.T) {
	ctx := context.Background()
	db := before000006(t, ctx, []string{"stuck", "paid"},
		`INSERT INTO revenue_shares (payment_id, purchase_id, from_company_id, to_company_id, basis_points,
		                             base_amount, amount, currency, transfer_key, status, transfer_id, charged_fee,
		                             attempts, finished_at)
		 VALUES ('pay_stuck', 'pur_stuck', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_stuck',
		         'pending', NULL, NULL, 20, NULL),
		        ('pay_paid', 'pur_paid', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_paid',
		         'paid', 'ctt_1', 25, 1, now())`,
		`INSERT INTO payouts (id, company_id, requested_by, recipient_input, recipient_id, ledger_account_id,
		                      amount, currency, fee, idempotency_key, transfer_key, attempts)
		 VALUES ('po_stuck', 'biz_1', 'user_1', 'alice', 'user_2', 'ldgr_1', 100, 'usd', 25, 'k', 'creditkit:payout:po_stuck', 21)`,
		`INSERT INTO jobs (kind, key, args, state, attempts, finished_at) VALUES
		        ('revenue_share', 'revenue_share:pay_stuck', '{"payment_id": "pay_stuck"}', 'discarded', 20, now()),
		        ('revenue_share', 'revenue_share:pay_paid', '{"payment_id": "pay_paid"}', 'completed', 1, now()),
		        ('payout', 'payout:po_stuck', '{"payout_id": "po_stuck"}', 'discarded', 20, now()),
		        ('reconcile', 'reconcile:1', '{}', 'discarded', 20, now()),
		        ('payout', 'payout:po_waiting', '{"payout_id": "po_waiting"}', 'available', 3, NULL)`,
	)
	if err := migrations.UpTo(ctx, db.URL, 6); err != nil {
		t.Fatalf("up to 000006: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO jobs (kind, key) VALUES ('payout', 'payout:new')`); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"revenue_share:pay_stuck": "available 20/1000 unfinished",
		"revenue_share:pay_paid":  "completed 1/20 finished",
		"payout:po_stuck":         "available 20/1000 unfinished",
		"reconcile:1":             "discarded 20/20 finished",
		"payout:po_waiting":       "available 3/1000 unfinished",
		"payout:new":              "available 0/1000 unfinished",
	}
	rows, err := db.Pool.Query(ctx, `SELECT key, state || ' ' || attempts || '/' || max_attempts || ' ' ||
		CASE WHEN finished_at IS NULL THEN 'unfinished' ELSE 'finished' END FROM jobs`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var key, state string
		if err := rows.Scan(&key, &state); err != nil {
			t.Fatal(err)
		}
		got[key] = state
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("jobs = %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("job %s: %q, want %q", k, got[k], w)
		}
	}
}

// before000006 returns a database at 000005 holding paid purchases
// pur_<x> (paid by pay_<x>) for each x, then the rows seed inserts.
func before000006(t *testing.T, ctx context.Context, purchases []string, seed ...string) *pgtest.DB {
	t.Helper()
	db := dbAt(t, ctx, 5)
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency,
		                       checkout_id, plan_id, status, payment_id, paid_amount, fulfilled_at)
		SELECT 'pur_' || x, 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_' || x, 'plan_1',
		       'paid', 'pay_' || x, 499, now()
		  FROM unnest($1::text[]) AS x`, purchases); err != nil {
		t.Fatalf("purchases: %v", err)
	}
	for _, sql := range seed {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	return db
}

// dbAt is a new test database migrated only as far as version, for a
// test of what the migrations after it do to the rows it then inserts.
func dbAt(t *testing.T, ctx context.Context, version uint) *pgtest.DB {
	t.Helper()
	db := pgtest.New(t)
	downTo(t, ctx, db, version)
	return db
}

// downTo reverts db's migrations until version is the newest applied.
func downTo(t *testing.T, ctx context.Context, db *pgtest.DB, version uint) {
	t.Helper()
	if err := migrations.Down(ctx, db.URL, stepsDownTo(t, version)); err != nil {
		t.Fatalf("down to %06d: %v", version, err)
	}
}

// stepsDownTo is how many migrations to revert so that version is the
// newest applied.
func stepsDownTo(t *testing.T, version uint) int {
	t.Helper()
	vs := migrations.Versions()
	for i, v := range vs {
		if v == version {
			return len(vs) - 1 - i
		}
	}
	t.Fatalf("no migration %d", version)
	return 0
}
