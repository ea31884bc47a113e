package ledger_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// payShare decides a share and makes one attempt whose outcome is o.
func (b *bundle) payShare(t *testing.T, paymentID string, o ledger.TransferOutcome) ledger.RevenueShare {
	t.Helper()
	return b.transfer(t, paymentID, func(ledger.Transfer) ledger.TransferOutcome { return o })
}

// transfer runs the transfer protocol's ledger steps for a share as billing
// does: prepare (decide the amount), then, if it is still pending, send
// (the test's function, with no transaction open) and record the outcome.
func (b *bundle) transfer(t *testing.T, paymentID string, send func(ledger.Transfer) ledger.TransferOutcome) ledger.RevenueShare {
	t.Helper()
	tr, err := b.store.PrepareTransfer(b.ctx, ledger.TransferOfRevenueShare, paymentID)
	if err != nil {
		t.Fatalf("prepare %s: %v", paymentID, err)
	}
	if tr.Status == ledger.TransferPending {
		if tr, err = b.store.RecordTransfer(b.ctx, ledger.TransferOfRevenueShare, paymentID, send(tr)); err != nil {
			t.Fatalf("record %s: %v", paymentID, err)
		}
	}
	if tr.Kind != ledger.TransferOfRevenueShare || tr.ID != paymentID || tr.Key != ledger.ShareTransferKey(paymentID) {
		t.Fatalf("transfer = %+v", tr)
	}
	sh, err := b.store.RevenueShareByPayment(b.ctx, paymentID)
	if err != nil {
		t.Fatal(err)
	}
	if tr != ledger.ShareTransfer(sh) {
		t.Fatalf("transfer %+v is not the share's %+v", tr, ledger.ShareTransfer(sh))
	}
	return sh
}

// sale settles pur_a ($4.99, 100 credits) as paid by pay_1 with a 12.5 %
// share of 62 cents, with refunded of it refunded.
func (b *bundle) sale(t *testing.T, refunded int64) {
	t.Helper()
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.refund(t, refunded)
}

// refund settles pay_1 again with a cumulative refund, as its webhook does.
func (b *bundle) refund(t *testing.T, refunded int64) {
	t.Helper()
	credits := (100*refunded + 498) / 499 // in proportion, rounded up
	_, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499,
		RefundedAmount: refunded, RefundedCredits: credits, Share: terms()}, nil)
	if err != nil {
		t.Fatalf("settle with %d refunded: %v", refunded, err)
	}
}

func (b *bundle) share(t *testing.T) ledger.RevenueShare {
	t.Helper()
	sh, err := b.store.RevenueShareByPayment(b.ctx, "pay_1")
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestShareTransferSendsTheNetOnceDecided: a refund recorded before the
// job runs comes off the share; the amount is fixed then, a later refund
// does not change it, and every attempt sends exactly it.
func TestShareTransferSendsTheNetOnceDecided(t *testing.T) {
	b := setup(t)
	b.sale(t, 200) // clawback 25 of the 62
	sh, err := b.store.DecideShareTransfer(b.ctx, "pay_1")
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.RevenueShare{ID: sh.ID, PaymentID: "pay_1", PurchaseID: "pur_a", FromCompanyID: "biz_owner",
		ToCompanyID: "biz_1", BasisPoints: 1250, BaseAmount: 499, Amount: 62, Currency: "usd",
		TransferKey: "creditkit:revenue_share:pay_1", TransferAmount: 37, Status: ledger.TransferPending,
		RefundedAmount: 200, Clawback: 25, CreatedAt: sh.CreatedAt, UpdatedAt: sh.UpdatedAt}
	if sh != want || sh.Withheld() != 25 || sh.ClawbackAfterTransfer() != 0 {
		t.Fatalf("decided share = %+v\nwant %+v", sh, want)
	}

	// The rest of the sale is refunded after the decision: recorded, but the
	// amount stays, and deciding again changes nothing.
	b.refund(t, 499)
	if again, err := b.store.DecideShareTransfer(b.ctx, "pay_1"); err != nil || again.TransferAmount != 37 || again.Clawback != 62 {
		t.Fatalf("decided again: %+v, %v", again, err)
	}
	var sent []int64
	send := func(status ledger.TransferStatus) func(ledger.Transfer) ledger.TransferOutcome {
		return func(tr ledger.Transfer) ledger.TransferOutcome {
			sent = append(sent, tr.Amount)
			if status == ledger.TransferPaid {
				return ledger.TransferOutcome{Status: status, TransferID: "ctt_1", ChargedFee: 25}
			}
			return ledger.TransferOutcome{Status: status, Error: "whop: 503"}
		}
	}
	sh = b.transfer(t, "pay_1", send(ledger.TransferPending))
	if sh.Status != ledger.TransferPending || sh.Attempts != 1 || sh.LastError != "whop: 503" || !sh.FinishedAt.IsZero() {
		t.Fatalf("after a failed attempt: %+v", sh)
	}
	sh = b.transfer(t, "pay_1", send(ledger.TransferPaid))
	want.Status, want.TransferID, want.ChargedFee, want.Attempts, want.RefundedAmount, want.Clawback = ledger.TransferPaid, "ctt_1", 25, 2, 499, 62
	want.UpdatedAt, want.FinishedAt = sh.UpdatedAt, sh.FinishedAt
	if sh != want || sh.FinishedAt.IsZero() || len(sent) != 2 || sent[0] != 37 || sent[1] != 37 {
		t.Fatalf("paid share = %+v\nwant %+v\nsent %v", sh, want, sent)
	}
	if sh.Withheld() != 25 || sh.ClawbackAfterTransfer() != 37 {
		t.Fatalf("withheld %d, clawback after the transfer %d; want 25 and 37", sh.Withheld(), sh.ClawbackAfterTransfer())
	}
	// A paid share is not sent again.
	if b.transfer(t, "pay_1", send(ledger.TransferPaid)); len(sent) != 2 {
		t.Fatalf("a paid share was sent again: %v", sent)
	}
	for _, side := range []struct {
		company string
		side    ledger.ShareSide
	}{{"biz_owner", ledger.SharesPaidBy}, {"biz_1", ledger.SharesPaidTo}} {
		rows, sum, err := b.store.RevenueShares(b.ctx, side.company, side.side, "usd", 10)
		if err != nil || len(rows) != 1 || rows[0] != sh {
			t.Fatalf("%s: rows %+v, %v", side.company, rows, err)
		}
		if sum != (ledger.ShareSummary{Count: 1, PaidCount: 1, Paid: 37, Withheld: 25, Clawback: 37, RefundedShares: 1}) {
			t.Fatalf("%s: summary = %+v", side.company, sum)
		}
	}
}

// TestShareRefundedInFullBeforeItIsDecidedIsCancelled is the refund webhook
// fulfilling first: the share is scheduled and refunded in one settlement,
// and its job sends nothing.
func TestShareRefundedInFullBeforeItIsDecidedIsCancelled(t *testing.T) {
	b := setup(t)
	b.sale(t, 499)
	sh, err := b.store.DecideShareTransfer(b.ctx, "pay_1")
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.RevenueShare{ID: sh.ID, PaymentID: "pay_1", PurchaseID: "pur_a", FromCompanyID: "biz_owner",
		ToCompanyID: "biz_1", BasisPoints: 1250, BaseAmount: 499, Amount: 62, Currency: "usd",
		TransferKey: "creditkit:revenue_share:pay_1", Status: ledger.TransferCancelled,
		RefundedAmount: 499, Clawback: 62, CreatedAt: sh.CreatedAt, UpdatedAt: sh.UpdatedAt, FinishedAt: sh.FinishedAt}
	if sh != want || sh.FinishedAt.IsZero() || sh.Withheld() != 62 || sh.ClawbackAfterTransfer() != 0 {
		t.Fatalf("cancelled share = %+v\nwant %+v", sh, want)
	}
	after := b.transfer(t, "pay_1", func(ledger.Transfer) ledger.TransferOutcome {
		t.Error("a cancelled share was sent")
		return ledger.TransferOutcome{}
	})
	if after != sh {
		t.Fatalf("transfer of a cancelled share: %+v", after)
	}
	// Recording an attempt against a finished share changes nothing.
	if late, err := b.store.RecordShareAttempt(b.ctx, "pay_1", ledger.TransferOutcome{Status: ledger.TransferPaid, TransferID: "ctt_x"}); err != nil || late != sh {
		t.Fatalf("late attempt on a cancelled share: %+v, %v", late, err)
	}
	_, sum, err := b.store.RevenueShares(b.ctx, "biz_owner", ledger.SharesPaidBy, "usd", 10)
	if err != nil || sum != (ledger.ShareSummary{Count: 1, Withheld: 62, Cancelled: 1}) {
		t.Fatalf("summary = %+v, %v", sum, err)
	}
	if _, err := b.db.Pool.Exec(b.ctx, `UPDATE revenue_shares SET status = 'pending', finished_at = NULL`); err == nil {
		t.Error("a cancelled share was reopened")
	}
}

// TestDecidingWaitsForARefundInFlight: a refund whose clawback is written
// but not committed holds the share; the decision waits for it and then
// takes it off.
func TestDecidingWaitsForARefundInFlight(t *testing.T) {
	b := setup(t)
	b.sale(t, 0)
	sh := b.share(t)
	tx, err := b.db.Pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx)
	if _, err := tx.Exec(b.ctx, `INSERT INTO revenue_share_clawbacks (share_id, refunded_total, amount, clawback_total)
		VALUES ($1, 200, 25, 25)`, sh.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan ledger.RevenueShare, 1)
	go func() {
		d, err := b.store.DecideShareTransfer(b.ctx, "pay_1")
		if err != nil {
			t.Error(err)
		}
		done <- d
	}()
	select {
	case d := <-done:
		t.Fatalf("decided while a refund held the share: %+v", d)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
	if d := <-done; d.TransferAmount != 37 || d.Clawback != 25 || d.Status != ledger.TransferPending {
		t.Fatalf("decided = %+v, want 37 of 62 after the 25 refunded", d)
	}
}

// TestRefundDuringTheSendWaitsForNothing: the transfer is out at Whop, and
// nothing of ours is held meanwhile (no transaction open, no row locked);
// a refund arriving then is recorded at once, against a share whose amount
// was already fixed: after the transfer, never taken off what was sent.
func TestRefundDuringTheSendWaitsForNothing(t *testing.T) {
	b := setup(t)
	b.sale(t, 0)
	refunded := make(chan time.Duration, 1)
	var idleInTx int
	sh := b.transfer(t, "pay_1", func(tr ledger.Transfer) ledger.TransferOutcome {
		if tr.Amount != 62 {
			t.Errorf("sending %d, want the whole 62", tr.Amount)
		}
		// The send is under way (this is it): a transaction held across
		// it has been idle since before now.
		idleInTx = b.db.HeldAcross(t, b.ctx, b.db.Now(t, b.ctx))
		// A refund that waited on something the send held would wait for
		// ever (the send waits for it): ten seconds end it with an error.
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := b.store.Settle(ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499,
			RefundedAmount: 499, RefundedCredits: 100}, nil); err != nil {
			t.Errorf("the refund during the send: %v", err)
		}
		refunded <- time.Since(start)
		return ledger.TransferOutcome{Status: ledger.TransferPaid, TransferID: "ctt_1", ChargedFee: 25}
	})
	if took := <-refunded; took > 5*time.Second || idleInTx != 0 {
		t.Fatalf("the refund during the send took %v; %d sessions idle in transaction: something was held", took, idleInTx)
	}
	if sh.Status != ledger.TransferPaid || sh.TransferAmount != 62 || sh.TransferID != "ctt_1" || sh.Attempts != 1 ||
		sh.Clawback != 62 || sh.RefundedAmount != 499 || sh.Withheld() != 0 || sh.ClawbackAfterTransfer() != 62 {
		t.Fatalf("after the refund during the send: %+v", sh)
	}
}

// TestShareNetRulesHoldInTheDatabase: whatever billing or a hand-written
// statement does, the database keeps the transfer amount the net share,
// set once, and a cancelled share one that sent nothing.
func TestShareNetRulesHoldInTheDatabase(t *testing.T) {
	b := setup(t)
	b.sale(t, 200) // net 37
	id := b.share(t).ID
	refused := []struct{ name, sql, msg string }{
		{"more than the share", `UPDATE revenue_shares SET transfer_amount = 63 WHERE id = $1`, "must be the net share 37"},
		{"nothing", `UPDATE revenue_shares SET transfer_amount = 0 WHERE id = $1`, "must be the net share 37"},
		{"not the net", `UPDATE revenue_shares SET transfer_amount = 62 WHERE id = $1`, "must be the net share 37"},
		{"an attempt without an amount", `UPDATE revenue_shares SET attempts = 1 WHERE id = $1`, "revenue_shares_attempted_amount_check"},
		{"cancelled with something left", `UPDATE revenue_shares SET status = 'cancelled', finished_at = now() WHERE id = $1`, "must be the net share 37"},
		{"an unknown status", `UPDATE revenue_shares SET status = 'void', finished_at = now() WHERE id = $1`, "revenue_shares_status_check"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.db.Pool.Exec(b.ctx, tt.sql, id); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %q", err, tt.msg)
			}
		})
	}
	if _, err := b.db.Pool.Exec(b.ctx, `UPDATE revenue_shares SET transfer_amount = 37 WHERE id = $1`, id); err != nil {
		t.Fatalf("the net refused: %v", err)
	}
	for _, sql := range []string{
		`UPDATE revenue_shares SET transfer_amount = 36 WHERE id = $1`,
		`UPDATE revenue_shares SET transfer_amount = NULL WHERE id = $1`,
		`UPDATE revenue_shares SET status = 'cancelled', finished_at = now() WHERE id = $1`,
	} {
		if _, err := b.db.Pool.Exec(b.ctx, sql, id); err == nil {
			t.Errorf("%s was allowed once the amount was fixed", sql)
		}
	}
	if sh := b.share(t); sh.TransferAmount != 37 || sh.Status != ledger.TransferPending {
		t.Fatalf("share = %+v", sh)
	}
}
