package ledger_test

import (
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// terms is a 12.5 % share of a $4.99 sale: 499 × 1250 / 10000 = 62.375,
// rounded down to 62 cents.
func terms() *ledger.ShareTerms {
	return &ledger.ShareTerms{FromCompanyID: "biz_owner", BasisPoints: 1250, Amount: 62}
}

func TestSettleSchedulesTheShareOnceWithItsJob(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	st := ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499, Share: terms()}
	d := &ledger.Delivery{ID: "msg_1", Type: "payment.succeeded", Scheme: "standard", ObjectID: "pay_1"}
	res, err := b.store.Settle(b.ctx, st, d)
	if err != nil || !res.ShareScheduled || res.ShareClawback {
		t.Fatalf("settle: %+v, %v", res, err)
	}
	sh, err := b.store.RevenueShareByPayment(b.ctx, "pay_1")
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.RevenueShare{ID: sh.ID, PaymentID: "pay_1", PurchaseID: "pur_a", FromCompanyID: "biz_owner",
		ToCompanyID: "biz_1", BasisPoints: 1250, BaseAmount: 499, Amount: 62, Currency: "usd",
		TransferKey: "creditkit:revenue_share:pay_1", Status: ledger.TransferPending,
		CreatedAt: sh.CreatedAt, UpdatedAt: sh.UpdatedAt}
	if sh != want || sh.CreatedAt.IsZero() {
		t.Fatalf("share = %+v\nwant %+v", sh, want)
	}
	state, args, due := b.job(t, ledger.JobRevenueShare, `{"payment_id": "pay_1"}`)
	if state != "available" || args != `{"payment_id": "pay_1"}` || time.Since(due) > time.Minute || time.Until(due) > 0 {
		t.Fatalf("job = %s %s due %v, want a revenue-share job available now", state, args, due)
	}
	dl, _ := b.store.DeliveriesFor(b.ctx, "biz_1", false, 10)
	if len(dl) != 1 || dl[0].Outcome != "fulfilled: 100 credits; revenue share scheduled" || dl[0].PurchaseID != "pur_a" {
		t.Fatalf("deliveries = %+v", dl)
	}

	// The confirm path settling the same payment schedules nothing more.
	res, err = b.store.Settle(b.ctx, st, nil)
	if err != nil || res.ShareScheduled {
		t.Fatalf("second settle: %+v, %v", res, err)
	}
	var shares, jobs int
	b.db.Pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM revenue_shares), (SELECT count(*) FROM river_job)`).Scan(&shares, &jobs)
	if shares != 1 || jobs != 1 {
		t.Fatalf("shares = %d, jobs = %d, want 1 and 1", shares, jobs)
	}

	// The database holds billing to the rounding rule.
	b.purchase(t, "pur_b", "user_1", 100, 499)
	bad := terms()
	bad.Amount = 63 // rounded up
	_, err = b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_b", PaymentID: "pay_2", PaidAmount: 499, Share: bad}, nil)
	if err == nil || !strings.Contains(err.Error(), "revenue_shares_check") {
		t.Fatalf("share rounded up: err = %v, want the CHECK to refuse it", err)
	}
	if p, _ := b.store.Purchase(b.ctx, "pur_b"); p.Status != ledger.PurchasePending {
		t.Fatalf("a refused share must roll back the fulfilment: purchase %s", p.Status)
	}
}

func TestRefundIsRecordedAgainstTheShare(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499, Share: terms()}, nil)
	paid := b.payShare(t, "pay_1", ledger.TransferOutcome{Status: ledger.TransferPaid, TransferID: "ctt_1", ChargedFee: 25})
	if paid.Status != ledger.TransferPaid || paid.TransferID != "ctt_1" || paid.ChargedFee != 25 ||
		paid.Attempts != 1 || paid.TransferAmount != 62 || paid.FinishedAt.IsZero() {
		t.Fatalf("paid share: %+v", paid)
	}

	steps := []struct {
		refunded, clawback int64
		recorded           bool
	}{
		{200, 25, true},  // 200 × 12.5 % = 25
		{200, 25, false}, // the same refund seen again
		{207, 25, false}, // 25.875 rounds down to what is recorded already
		{499, 62, true},  // a full refund takes back exactly the share
		{600, 62, false}, // never more than the share
	}
	for _, s := range steps {
		res, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499,
			RefundedAmount: s.refunded, RefundedCredits: 100 * min(s.refunded, 499) / 499}, nil)
		if err != nil || res.ShareClawback != s.recorded {
			t.Fatalf("refund %d: %+v, %v", s.refunded, res, err)
		}
		sh, _ := b.store.RevenueShareByPayment(b.ctx, "pay_1")
		if sh.Clawback != s.clawback || sh.Status != ledger.TransferPaid {
			t.Fatalf("refund %d: clawback %d, want %d (share %+v)", s.refunded, sh.Clawback, s.clawback, sh)
		}
	}
	sh, _ := b.store.RevenueShareByPayment(b.ctx, "pay_1")
	if sh.RefundedAmount != 499 {
		t.Fatalf("refunded amount on the share = %d, want 499", sh.RefundedAmount)
	}
	for _, sql := range []string{
		`UPDATE revenue_share_clawbacks SET amount = 1`,
		`DELETE FROM revenue_share_clawbacks`,
		`UPDATE revenue_shares SET status = 'pending', transfer_id = NULL, charged_fee = NULL, finished_at = NULL`,
		`DELETE FROM revenue_shares`,
	} {
		if _, err := b.db.Pool.Exec(b.ctx, sql); err == nil {
			t.Errorf("%s was allowed", sql)
		}
	}
	// A clawback that breaks the share's rule is refused by the database.
	_, err := b.db.Pool.Exec(b.ctx, `INSERT INTO revenue_share_clawbacks (share_id, refunded_total, amount, clawback_total)
		VALUES ($1, 450, 1, 63)`, sh.ID)
	if err == nil {
		t.Error("a clawback above the share was accepted")
	}

	owner, sum, err := b.store.RevenueShares(b.ctx, "biz_owner", ledger.SharesPaidBy, "usd", 10)
	if err != nil || len(owner) != 1 || owner[0] != sh {
		t.Fatalf("owner's shares: %+v, %v", owner, err)
	}
	if sum != (ledger.ShareSummary{Count: 1, PaidCount: 1, Paid: 62, Clawback: 62, RefundedShares: 1}) || sh.Withheld() != 0 || sh.ClawbackAfterTransfer() != 62 {
		t.Fatalf("owner's summary = %+v", sum)
	}
	creator, sum2, _ := b.store.RevenueShares(b.ctx, "biz_1", ledger.SharesPaidTo, "usd", 10)
	if len(creator) != 1 || creator[0] != sh || sum2 != sum {
		t.Fatalf("creator's shares: %+v %+v", creator, sum2)
	}
	if none, sum3, _ := b.store.RevenueShares(b.ctx, "biz_1", ledger.SharesPaidBy, "usd", 10); len(none) != 0 || sum3 != (ledger.ShareSummary{}) {
		t.Fatalf("biz_1 pays no shares: %+v %+v", none, sum3)
	}
}
