package migrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditkit/creditkit/migrations"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// TestRiverTakesOverWaitingJobs applies 000008 to a database whose old jobs
// table still holds work: a payout and a share job whose rows are pending
// become River jobs (due now or later, with their attempts and last error,
// readable by River itself); jobs whose rows are finished, a waiting
// reconcile job and finished jobs are not carried over; the table is gone.
// Going down brings the unfinished River jobs back.
func TestRiverTakesOverWaitingJobs(t *testing.T) {
	ctx := context.Background()
	db := dbAt(t, ctx, 7)
	later := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	for _, sql := range []string{
		`INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency,
		                        checkout_id, plan_id, status, payment_id, paid_amount, fulfilled_at)
		 SELECT 'pur_' || x, 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'usd', 'ch_' || x, 'plan_1',
		        'paid', 'pay_' || x, 499, now() FROM unnest(ARRAY['due', 'paid']) AS x`,
		`INSERT INTO revenue_shares (payment_id, purchase_id, from_company_id, to_company_id, basis_points,
		                             base_amount, amount, currency, transfer_key, status, transfer_id, charged_fee,
		                             attempts, transfer_amount, finished_at)
		 VALUES ('pay_due', 'pur_due', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_due',
		         'pending', NULL, NULL, 0, NULL, NULL),
		        ('pay_paid', 'pur_paid', 'biz_owner', 'biz_1', 1250, 499, 62, 'usd', 'creditkit:revenue_share:pay_paid',
		         'paid', 'ctt_1', 25, 1, 62, now())`,
		`INSERT INTO payouts (id, company_id, requested_by, recipient_input, recipient_id, ledger_account_id,
		                      amount, currency, fee, idempotency_key, transfer_key, attempts, last_error)
		 VALUES ('po_wait', 'biz_1', 'user_1', 'alice', 'user_2', 'ldgr_1', 100, 'usd', 25, 'k', 'creditkit:payout:po_wait',
		         3, 'whop: 503')`,
		`INSERT INTO jobs (kind, key, args, state, attempts, run_at, last_error, finished_at) VALUES
		        ('revenue_share', 'revenue_share:pay_due', '{"payment_id": "pay_due"}', 'available', 0, now() - interval '1 minute', '', NULL),
		        ('revenue_share', 'revenue_share:pay_paid', '{"payment_id": "pay_paid"}', 'available', 1, now(), '', NULL),
		        ('payout', 'payout:po_wait', '{"payout_id": "po_wait"}', 'available', 3, '` + later.Format(time.RFC3339Nano) + `', 'whop: 503', NULL),
		        ('payout', 'payout:po_old', '{"payout_id": "po_old"}', 'completed', 1, now(), '', now()),
		        ('reconcile', 'reconcile:1', '{}', 'available', 0, now(), '', NULL)`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up: %v", err)
	}
	var jobsTable *string
	if err := db.Pool.QueryRow(ctx, `SELECT to_regclass('jobs')::text`).Scan(&jobsTable); err != nil || jobsTable != nil {
		t.Fatalf("the jobs table is still there (%v, %v)", jobsTable, err)
	}

	// River reads them as its own.
	client, err := river.NewClient(riverpgxv5.New(db.Pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.JobList(ctx, river.NewJobListParams().OrderBy(river.JobListOrderByID, river.SortOrderAsc))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 2 {
		t.Fatalf("River jobs = %d, want the two whose rows are pending", len(res.Jobs))
	}
	share, payout := res.Jobs[0], res.Jobs[1]
	if share.Kind != "revenue_share" || string(share.EncodedArgs) != `{"payment_id": "pay_due"}` ||
		share.State != rivertype.JobStateAvailable || share.Attempt != 0 || share.MaxAttempts != 1000 ||
		share.Queue != river.QueueDefault || share.Priority != 1 || len(share.Errors) != 0 || time.Since(share.ScheduledAt) < 50*time.Second {
		t.Errorf("share job = %+v", share)
	}
	if payout.Kind != "payout" || string(payout.EncodedArgs) != `{"payout_id": "po_wait"}` ||
		payout.State != rivertype.JobStateScheduled || payout.Attempt != 3 || payout.MaxAttempts != 1000 ||
		!payout.ScheduledAt.Equal(later) || len(payout.Errors) != 1 || payout.Errors[0].Error != "whop: 503" ||
		payout.Errors[0].Attempt != 3 {
		t.Errorf("payout job = %+v (errors %+v)", payout, payout.Errors)
	}

	// Down again: the unfinished River jobs are the old queue's once more.
	downTo(t, ctx, db, 7)
	got := map[string]string{}
	var key, row string
	rows, _ := db.Pool.Query(ctx, `SELECT key, state || ' ' || attempts || '/' || max_attempts || ' ' || last_error FROM jobs`)
	for rows.Next() {
		if err := rows.Scan(&key, &row); err != nil {
			t.Fatal(err)
		}
		got[key] = row
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"revenue_share:pay_due": "available 0/1000 ", "payout:po_wait": "available 3/1000 whop: 503"}
	if len(got) != len(want) || got["revenue_share:pay_due"] != want["revenue_share:pay_due"] || got["payout:po_wait"] != want["payout:po_wait"] {
		t.Fatalf("jobs after going down = %v, want %v", got, want)
	}
}
