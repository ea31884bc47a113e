package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Settlement is what a Whop payment says about a purchase, already checked
// by the caller against the purchase's user, currency and price.
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
	// Share, when set, is the revenue share to schedule if this settlement
	// fulfils the purchase now; a purchase fulfilled before keeps its own.
	Share *ShareTerms
	// ReconcilerRun, when set, is the reconciler run settling this: a credit
	// or refund made here is counted on that run in the same transaction,
	// so a run cut short (a crash, a database outage) still shows exactly
	// what it repaired.
	ReconcilerRun int64
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

// Settle fulfils a purchase at most once and applies any refund, in one
// transaction that also records the delivery when there is one. The
// purchase row is locked first, so the webhook, the confirm call and the
// reconciler racing on one payment serialize here and credit once.
func (s *Store) Settle(ctx context.Context, st Settlement, d *Delivery) (SettleResult, error) {
	var res SettleResult
	err := s.withDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		p, err := scanPurchase(tx.QueryRow(ctx, `SELECT `+purchaseColumns+` FROM purchases WHERE id = $1 FOR UPDATE`, st.PurchaseID))
		if err != nil {
			return "", err
		}
		if p.Status == PurchasePaid && p.PaymentID != st.PaymentID {
			return "", fmt.Errorf("%w (%s)", ErrPaidByOtherPayment, p.PaymentID)
		}
		outcome := "already fulfilled"
		if p.Status != PurchasePaid {
			if _, err := tx.Exec(ctx, `
				UPDATE purchases SET status = 'paid', payment_id = $2, paid_amount = $3, failure_reason = '',
				       fulfilled_at = now(), updated_at = now(), buyer_username = COALESCE(NULLIF($4, ''), buyer_username)
				 WHERE id = $1`, p.ID, st.PaymentID, st.PaidAmount, st.BuyerUsername); err != nil {
				return "", fmt.Errorf("mark paid: %w", err)
			}
			if _, err := move(ctx, tx, p.ExperienceID, p.UserID, KindPurchase, p.Credits, p.ID, "purchase:"+p.ID); err != nil {
				return "", err
			}
			res.Credited = p.Credits
			outcome = "fulfilled: " + strconv.FormatInt(p.Credits, 10) + " credits"
			if st.Share != nil {
				if err := s.scheduleShare(ctx, tx, p.ID, st.PaymentID, *st.Share); err != nil {
					return "", err
				}
				res.ShareScheduled = true
				outcome += "; revenue share scheduled"
			}
		}
		target := min(st.RefundedCredits, p.Credits)
		if delta := target - p.RefundedCredits; delta > 0 {
			key := "refund:" + p.ID + ":" + strconv.FormatInt(target, 10)
			if _, err := move(ctx, tx, p.ExperienceID, p.UserID, KindRefund, -delta, st.PaymentID, key); err != nil {
				return "", err
			}
			res.TakenBack = delta
			outcome += "; refund took back " + strconv.FormatInt(delta, 10) + " credits"
		}
		if target > p.RefundedCredits || st.RefundedAmount > p.RefundedAmount {
			if _, err := tx.Exec(ctx, `
				UPDATE purchases SET refunded_amount = GREATEST(refunded_amount, $2),
				       refunded_credits = GREATEST(refunded_credits, $3), updated_at = now()
				 WHERE id = $1`, p.ID, st.RefundedAmount, target); err != nil {
				return "", fmt.Errorf("record refund: %w", err)
			}
		}
		if res.ShareClawback, err = recordClawback(ctx, tx, p.ID, st.RefundedAmount); err != nil {
			return "", err
		}
		if res.ShareClawback {
			outcome += "; refund recorded against the revenue share"
		}
		if err := linkDelivery(ctx, tx, d, p.ID); err != nil {
			return "", err
		}
		if st.ReconcilerRun != 0 && (res.Credited > 0 || res.TakenBack > 0) {
			if _, err := tx.Exec(ctx, `UPDATE reconciler_runs SET credited = credited + $2, refunded = refunded + $3
				WHERE id = $1`, st.ReconcilerRun, oneIf(res.Credited > 0), oneIf(res.TakenBack > 0)); err != nil {
				return "", fmt.Errorf("count repair: %w", err)
			}
		}
		res.Purchase, err = scanPurchase(tx.QueryRow(ctx, `SELECT `+purchaseColumns+` FROM purchases WHERE id = $1`, p.ID))
		if err != nil {
			return "", err
		}
		if err := tx.QueryRow(ctx, `SELECT balance FROM wallets WHERE experience_id = $1 AND user_id = $2`,
			p.ExperienceID, p.UserID).Scan(&res.Balance); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return "", err
		}
		return outcome, nil
	})
	if err != nil {
		return res, fmt.Errorf("ledger: settle %s: %w", st.PurchaseID, err)
	}
	return res, nil
}

func oneIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Rejection is a payment that was not fulfilled, and why.
type Rejection struct {
	PaymentID  string
	PurchaseID string
	Source     string // webhook, confirm, reconcile or return
	Reason     string
}

// RecordRejection keeps a refused payment for the creator and support; the
// same payment refused for the same reason is kept once.
func (s *Store) RecordRejection(ctx context.Context, r Rejection, d *Delivery) error {
	err := s.withDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		_, err := tx.Exec(ctx, `
			INSERT INTO payment_rejections (payment_id, purchase_id, source, reason)
			VALUES ($1, $2, $3, $4) ON CONFLICT (payment_id, reason) DO NOTHING`,
			r.PaymentID, r.PurchaseID, r.Source, r.Reason)
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
	rows, err := s.pool.Query(ctx, `SELECT payment_id, purchase_id, source, reason FROM payment_rejections
		WHERE payment_id = $1 ORDER BY id`, paymentID)
	if err != nil {
		return nil, fmt.Errorf("ledger: rejections: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Rejection])
	if err != nil {
		return nil, fmt.Errorf("ledger: rejections: %w", err)
	}
	return out, nil
}
