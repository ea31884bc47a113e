package ledger

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/jackc/pgx/v5"
)

// fixedJobs gives the share's job a River-shaped row (billing computes the
// real one; here both statements only need the same input).
type fixedJobs struct{}

func (fixedJobs) InsertJobTx(context.Context, pgx.Tx, JobArgs, time.Time) error { return nil }

func (fixedJobs) JobRow(args JobArgs) (JobRow, error) {
	p := args.(RevenueShareJob).PaymentID
	key := sha256.Sum256([]byte("&kind=revenue_share&args={\"payment_id\":\"" + p + "\"}"))
	return JobRow{Kind: JobRevenueShare, Args: []byte(`{"payment_id":"` + p + `"}`), MaxAttempts: 1000, Priority: 1,
		Queue: "default", UniqueKey: key[:], UniqueStates: 245}, nil
}

// TestFulfilWritesWhatSettleWrites fulfils one purchase by the hot path's
// statement (fulfilSQL) and its twin by creditkit_settle, with the same
// payment, share, reconciler run and delivery, and compares everything
// each wrote, column by column, and what each answered: the two ways to
// fulfil cannot drift apart.
func TestFulfilWritesWhatSettleWrites(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	s := NewStore(db.Pool, WithJobs(fixedJobs{}))
	run, err := s.StartReconcilerRun(ctx, time.Now().Add(-time.Hour), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]SettleResult{}
	for _, x := range []string{"a", "b"} {
		if _, _, err := s.CreatePurchase(ctx, NewPurchase{ID: "pur_" + x, UserID: "user_" + x, ExperienceID: "exp_1",
			CompanyID: "biz_1", PackageID: "starter", Credits: 100, Price: 499, Currency: "usd", CheckoutID: "ch_" + x,
			PlanID: "plan_1"}); err != nil {
			t.Fatal(err)
		}
		st := Settlement{PurchaseID: "pur_" + x, PaymentID: "pay_" + x, PaidAmount: 499, BuyerUsername: "buyer_" + x,
			Match:         &PaymentMatch{UserID: "user_" + x, Currency: "usd", CheckoutID: "ch_" + x},
			Share:         &ShareTerms{FromCompanyID: "biz_owner", BasisPoints: 1250, Amount: 62},
			ReconcilerRun: run}
		d := &Delivery{ID: "msg_" + x, Type: "payment.succeeded", Scheme: "standard", CompanyID: "biz_owner", ObjectID: "pay_" + x}
		job, err := s.jobRow(st)
		if err != nil {
			t.Fatal(err)
		}
		var res SettleResult
		if x == "a" {
			var done bool
			res, done, err = s.fulfil(ctx, st, job, d)
			if !done && err == nil {
				t.Fatal("fulfilSQL wrote nothing")
			}
		} else {
			res, err = s.settle(ctx, st, job, d)
		}
		if err != nil {
			t.Fatal(err)
		}
		results[x] = res
	}
	a, b := results["a"], results["b"]
	a.Purchase.ID, a.Purchase.UserID, a.Purchase.CheckoutID, a.Purchase.PaymentID, a.Purchase.BuyerUsername =
		b.Purchase.ID, b.Purchase.UserID, b.Purchase.CheckoutID, b.Purchase.PaymentID, b.Purchase.BuyerUsername
	a.Purchase.CreatedAt, a.Purchase.UpdatedAt, a.Purchase.FulfilledAt = b.Purchase.CreatedAt, b.Purchase.UpdatedAt, b.Purchase.FulfilledAt
	if a != b || b.Credited != 100 || b.Balance != 100 || !b.ShareScheduled || b.Purchase.Status != PurchasePaid {
		t.Fatalf("answers differ or are wrong:\nfulfilSQL        %+v\ncreditkit_settle %+v", results["a"], b)
	}

	// Each table's rows for a and b, without what is meant to differ (ids
	// drawn from sequences, times), with a's names spelled as b's.
	for _, q := range []string{
		`SELECT to_jsonb(p) - 'created_at' - 'updated_at' - 'fulfilled_at' FROM purchases p WHERE id = 'pur_' || $1`,
		`SELECT to_jsonb(w) - 'id' - 'created_at' - 'updated_at' FROM wallets w WHERE user_id = 'user_' || $1`,
		`SELECT to_jsonb(e) - 'id' - 'wallet_id' - 'created_at' FROM ledger_entries e WHERE reference = 'pur_' || $1`,
		`SELECT to_jsonb(s) - 'id' - 'created_at' - 'updated_at' FROM revenue_shares s WHERE purchase_id = 'pur_' || $1`,
		`SELECT to_jsonb(j) - 'id' - 'unique_key' - 'created_at' - 'scheduled_at' FROM river_job j WHERE args->>'payment_id' = 'pay_' || $1`,
		`SELECT to_jsonb(d) - 'received_at' FROM webhook_deliveries d WHERE id = 'msg_' || $1`,
	} {
		var rowA, rowB string
		if err := db.Pool.QueryRow(ctx, q, "a").Scan(&rowA); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if err := db.Pool.QueryRow(ctx, q, "b").Scan(&rowB); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.ReplaceAll(rowA, "_a\"", "_b\"") != rowB {
			t.Errorf("rows differ:\nfulfilSQL        %s\ncreditkit_settle %s", rowA, rowB)
		}
	}
	var credited int
	if err := db.Pool.QueryRow(ctx, `SELECT credited FROM reconciler_runs WHERE id = $1`, run).Scan(&credited); err != nil || credited != 2 {
		t.Fatalf("the reconciler run counted %d credits (%v), want 2", credited, err)
	}
	var keysOK bool
	if err := db.Pool.QueryRow(ctx, `SELECT count(DISTINCT unique_key) = 2 AND bool_and(length(unique_key) = 32) FROM river_job`).Scan(&keysOK); err != nil || !keysOK {
		t.Fatalf("the jobs' unique keys: %v", err)
	}
}
