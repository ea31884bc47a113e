package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Settlement is what a Whop payment says about a purchase.
type Settlement struct {
	PurchaseID string
	PaymentID  string
	PaidAmount int64 // what the buyer was charged, minor units
	// BuyerUsername is the buyer's Whop username as the payment names it
	// ("" when it does not); kept on the purchase for the creator's receipts.
	BuyerUsername string
	// RefundedAmount is the payment's cumulative refunded amount and
	// RefundedCredits the cumulative credits that refund takes back.
	// Cumulative values make a refund seen twice (webhook, then reconciler)
	// take nothing the second time.
	RefundedAmount  int64
	RefundedCredits int64
	// Match, when set, is the payment's side of the checks against the
	// purchase, made under the purchase's row lock: a caller that has not
	// read the purchase passes it, and gets ErrPaymentMismatch (nothing
	// written) when the purchase is another user's, in another currency,
	// priced above PaidAmount, for another checkout, or unpaid while the
	// payment is disputed. nil: the caller has checked.
	Match *PaymentMatch
	// Share, when set, is the revenue share to schedule if this settlement
	// fulfils the purchase now; a purchase fulfilled before keeps its own.
	Share *ShareTerms
	// ReconcilerRun, when set, is the reconciler run settling this: a credit
	// or refund made here is counted on that run in the same transaction,
	// so a run cut short (a crash, a database outage) still shows exactly
	// what it repaired.
	ReconcilerRun int64
}

// PaymentMatch is what a payment says that its purchase must agree with.
type PaymentMatch struct {
	UserID     string
	Currency   string
	CheckoutID string
	// Disputed is a payment in a dispute not yet won: it fulfils nothing,
	// though a purchase it already paid keeps its credits.
	Disputed bool
}

// SettleResult is what settling changed.
type SettleResult struct {
	Purchase  Purchase
	Credited  int64 // credits given now (0 when already fulfilled)
	TakenBack int64 // credits taken back now for refunds
	Balance   int64 // the wallet's balance afterwards
	// ShareScheduled is true when a revenue share (and its job) was
	// recorded now; ShareClawback when a refund was recorded against one.
	ShareScheduled bool
	ShareClawback  bool
}

// settleSQL calls creditkit_settle (migration 000011), which does all of
// settling in one statement: one round trip, one implicit transaction,
// committed (with synchronous_commit on, flushed) before the row comes back.
var settleSQL = `SELECT s.outcome, s.credited, s.taken_back, s.balance, s.share_scheduled, s.share_clawback, ` +
	purchaseColumns + ` FROM creditkit_settle($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
		$14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26) AS s,
		LATERAL (SELECT (s.purchase).*) AS p`

// The SQLSTATEs creditkit_settle raises when it writes nothing.
const (
	stateSettlePaidByOther = "CK001"
	stateSettleNoPurchase  = "CK002"
	stateSettleMismatch    = "CK003"
	stateSettleRepeat      = "CK004"
	stateSettleNoJob       = "CK005"
)

// Settle fulfils a purchase at most once and applies any refund, in one
// statement that also records the delivery when there is one: a payment
// with nothing refunded for an unpaid purchase (the webhook's and the
// confirm call's usual case) by fulfilSQL, anything else by
// creditkit_settle, which that statement leaves it to when it writes
// nothing. Either locks the purchase row first, so the webhook, the confirm
// call and the reconciler racing on one payment serialize there and credit
// once, and records the delivery last, so a repeat fails on its id and
// undoes the whole statement (ErrDuplicateDelivery). A revenue share due
// now is recorded with its job.
func (s *Store) Settle(ctx context.Context, st Settlement, d *Delivery) (SettleResult, error) {
	job, err := s.jobRow(st)
	if err != nil {
		return SettleResult{}, fmt.Errorf("ledger: settle %s: %w", st.PurchaseID, err)
	}
	if st.RefundedAmount == 0 && st.RefundedCredits == 0 && (st.Share == nil || job != nil) {
		res, done, err := s.fulfil(ctx, st, job, d)
		if err != nil {
			return SettleResult{}, fmt.Errorf("ledger: settle %s: %w", st.PurchaseID, err)
		}
		if done {
			return res, nil
		}
	}
	res, err := s.settle(ctx, st, job, d)
	if err != nil {
		return SettleResult{}, fmt.Errorf("ledger: settle %s: %w", st.PurchaseID, err)
	}
	return res, nil
}

// settle is Settle by creditkit_settle, for every case.
func (s *Store) settle(ctx context.Context, st Settlement, job *JobRow, d *Delivery) (SettleResult, error) {
	args := make([]any, 26)
	args[0], args[1], args[2], args[3] = st.PurchaseID, st.PaymentID, st.PaidAmount, st.BuyerUsername
	args[4], args[5] = st.RefundedAmount, st.RefundedCredits
	if m := st.Match; m != nil {
		args[6], args[7], args[8], args[9] = m.UserID, m.Currency, m.CheckoutID, m.Disputed
	}
	if sh := st.Share; sh != nil {
		args[10], args[11], args[12] = sh.FromCompanyID, sh.BasisPoints, sh.Amount
		if job != nil {
			args[13], args[14], args[15], args[16] = job.Kind, job.Args, job.MaxAttempts, job.Priority
			args[17], args[18], args[19] = job.Queue, job.UniqueKey, job.UniqueStates
		}
	}
	if st.ReconcilerRun != 0 {
		args[20] = st.ReconcilerRun
	}
	if d != nil {
		args[21], args[22], args[23], args[24], args[25] = d.ID, d.Type, d.Scheme, d.CompanyID, d.ObjectID
	}
	var res SettleResult
	var outcome string
	err := scanPurchaseAfter(s.pool.QueryRow(ctx, settleSQL, args...), &res.Purchase, &outcome, &res.Credited,
		&res.TakenBack, &res.Balance, &res.ShareScheduled, &res.ShareClawback)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case stateSettleRepeat:
			err = ErrDuplicateDelivery
		case stateSettleNoPurchase:
			err = ErrNotFound
		case stateSettleMismatch:
			err = ErrPaymentMismatch
		case stateSettlePaidByOther:
			err = fmt.Errorf("%w (%s)", ErrPaidByOtherPayment, pe.Detail)
		case stateSettleNoJob:
			err = ErrNoJobInserter
		}
	}
	return res, err
}

// Rejection is a payment that was not fulfilled, and why.
type Rejection struct {
	PaymentID  string
	PurchaseID string
	Source     string // webhook, confirm, reconcile, return or topup
	Reason     string
	// BuyerCharged is true when the payment charged the purchase's own
	// buyer (paid, theirs, received by the app owner's company): their
	// receipt then reads "Not credited", not "Not paid".
	BuyerCharged bool
}

// RecordRejection keeps a refused payment for the creator and support; the
// same payment refused for the same reason is kept once. A payment that
// charged the buyer is final: its state kept on its purchase becomes
// "refused" (refusePaymentState), no longer under way.
func (s *Store) RecordRejection(ctx context.Context, r Rejection, d *Delivery) error {
	err := s.withDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		_, err := tx.Exec(ctx, `
			INSERT INTO payment_rejections (payment_id, purchase_id, source, reason, buyer_charged)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (payment_id, reason) DO NOTHING`,
			r.PaymentID, r.PurchaseID, r.Source, r.Reason, r.BuyerCharged)
		if err == nil && r.BuyerCharged && r.PurchaseID != "" {
			err = refusePaymentState(ctx, tx, r, s.now())
		}
		if err == nil {
			err = linkDelivery(ctx, tx, d, r.PurchaseID)
		}
		return "rejected: " + r.Reason, err
	})
	if err != nil {
		return fmt.Errorf("ledger: record rejection: %w", err)
	}
	return nil
}

// Rejections returns the refusals recorded for a payment, oldest first.
func (s *Store) Rejections(ctx context.Context, paymentID string) ([]Rejection, error) {
	return queryAll(ctx, s.pool, "rejections", pgx.RowToStructByPos[Rejection],
		`SELECT payment_id, purchase_id, source, reason, buyer_charged FROM payment_rejections
		WHERE payment_id = $1 ORDER BY id`, paymentID)
}

// refusePaymentState keeps a refused payment's state on its purchase as
// "refused", with the purchase's row locked as MarkPurchase locks it: a
// pending of the payment delivered late then changes nothing, and the
// payment no longer counts as under way when the purchase's status is next
// derived. The purchase's own status is left as it is (its receipt reads
// "Not credited" whatever it is): deriving it now could turn it to an
// earlier payment's decline, inviting a member who was charged to pay
// again.
func refusePaymentState(ctx context.Context, tx pgx.Tx, r Rejection, now time.Time) error {
	var locked bool
	err := tx.QueryRow(ctx, `SELECT true FROM purchases WHERE id = $1 FOR UPDATE`, r.PurchaseID).Scan(&locked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // a purchase the app has no record of
	}
	if err != nil {
		return fmt.Errorf("lock purchase: %w", err)
	}
	payments, err := paymentStates(ctx, tx, r.PurchaseID)
	if err != nil {
		return fmt.Errorf("read payment states: %w", err)
	}
	i := slices.IndexFunc(payments, func(p paymentState) bool { return p.paymentID == r.PaymentID })
	if i >= 0 && payments[i].status == paymentRefused {
		return nil // refused before, for another reason
	}
	refused := paymentState{status: paymentRefused, reason: r.Reason, paymentID: r.PaymentID, recorded: nextRecorded(payments, now)}
	if err := keepPaymentState(ctx, tx, r.PurchaseID, refused); err != nil {
		return fmt.Errorf("keep refused payment state: %w", err)
	}
	return nil
}
