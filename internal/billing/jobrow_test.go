package billing

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// TestRiverJobRowIsRiversOwn holds the row the settle statement writes for a
// share's job to the row River's own insert writes: every column but the
// id, the times and what depends on the arguments is equal, the unique key
// is the one River computes, and a job written by the settle statement is
// one River's insert recognises as already there.
func TestRiverJobRowIsRiversOwn(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	jobs, err := NewJobs(db.Pool, JobsConfig{TestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	store := ledger.NewStore(db.Pool, ledger.WithJobs(jobs))
	jobs.Register(New(nil, store, Config{CompanyID: "biz_owner", Currency: money.USD}))

	// River's insert, then the row RiverJobRow says it wrote.
	for _, args := range []ledger.JobArgs{ledger.RevenueShareJob{PaymentID: "pay_river"}, ledger.PayoutJob{PayoutID: "po_river"}} {
		if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			return jobs.InsertJobTx(ctx, tx, args, time.Time{})
		}); err != nil {
			t.Fatal(err)
		}
		want, err := jobs.JobRow(args)
		if err != nil {
			t.Fatal(err)
		}
		var got ledger.JobRow
		var state string
		var argsMatch bool
		err = db.Pool.QueryRow(ctx, `SELECT kind, args = $2::jsonb, max_attempts, priority, queue, unique_key,
			unique_states::integer, state::text FROM river_job WHERE kind = $1 AND args = $2::jsonb`, args.Kind(), string(want.Args)).
			Scan(&got.Kind, &argsMatch, &got.MaxAttempts, &got.Priority, &got.Queue, &got.UniqueKey, &got.UniqueStates, &state)
		if err != nil {
			t.Fatalf("%s: River's row: %v", args.Kind(), err)
		}
		got.Args = want.Args
		if !argsMatch || state != "available" || got.Kind != want.Kind || got.MaxAttempts != want.MaxAttempts ||
			got.Priority != want.Priority || got.Queue != want.Queue || !bytes.Equal(got.UniqueKey, want.UniqueKey) ||
			got.UniqueStates != want.UniqueStates || want.MaxAttempts != TransferMaxAttempts || len(want.UniqueKey) != 32 {
			t.Fatalf("%s: River wrote %+v (%s), RiverJobRow says %+v", args.Kind(), got, state, want)
		}
	}

	// The settle statement's row for a share, beside River's for another.
	if _, _, err := store.CreatePurchase(ctx, ledger.NewPurchase{ID: "pur_a", UserID: "user_1", ExperienceID: "exp_1",
		CompanyID: "biz_creator", PackageID: "starter", Credits: 100, Price: 499, Currency: "usd",
		CheckoutID: "ch_a", PlanID: "plan_a"}); err != nil {
		t.Fatal(err)
	}
	res, err := store.Settle(ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_settled", PaidAmount: 499,
		Share: &ledger.ShareTerms{FromCompanyID: "biz_owner", BasisPoints: 1000, Amount: 49}}, nil)
	if err != nil || !res.ShareScheduled {
		t.Fatalf("settle: %+v, %v", res, err)
	}
	same := func(payment string) string {
		var row string
		if err := db.Pool.QueryRow(ctx, `SELECT (to_jsonb(j) - 'id' - 'args' - 'unique_key' - 'created_at' - 'scheduled_at')::text
			FROM river_job j WHERE kind = 'revenue_share' AND args->>'payment_id' = $1`, payment).Scan(&row); err != nil {
			t.Fatalf("job of %s: %v", payment, err)
		}
		return row
	}
	if settled, rivers := same("pay_settled"), same("pay_river"); settled != rivers {
		t.Fatalf("the settle statement's job differs from River's:\n%s\n%s", settled, rivers)
	}

	// River's insert of the same job finds the settle statement's.
	var dup bool
	opts := transferInsertOpts()
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		r, err := jobs.Client().InsertTx(ctx, tx, ledger.RevenueShareJob{PaymentID: "pay_settled"}, &opts)
		if err == nil {
			dup = r.UniqueSkippedAsDuplicate
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'payment_id' = 'pay_settled'`).Scan(&n)
	if !dup || n != 1 {
		t.Fatalf("River's insert of the settled share's job: duplicate=%t, jobs=%d; want true, 1", dup, n)
	}
}

func TestRiverJobRowRefusesOptionsItDoesNotReproduce(t *testing.T) {
	for _, opts := range []river.InsertOpts{
		{ScheduledAt: time.Now()}, {Queue: "other"}, {Priority: 2}, {Tags: []string{"a"}},
		{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Hour}},
	} {
		if _, err := RiverJobRow(ledger.PayoutJob{PayoutID: "po_1"}, opts, 25); !errors.Is(err, errJobRowOptions) {
			t.Errorf("%+v: err = %v", opts, err)
		}
	}
	row, err := RiverJobRow(ledger.PayoutJob{PayoutID: "po_1"}, river.InsertOpts{}, 25)
	if err != nil || row.UniqueKey != nil || row.UniqueStates != 0 || row.MaxAttempts != 25 || string(row.Args) != `{"payout_id":"po_1"}` {
		t.Fatalf("plain job row = %+v, %v", row, err)
	}
}
