package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A revenue share's amount is decided once, before anything is sent:
// DecideShareTransfer locks the share's row for one short transaction,
// takes off the refunds recorded so far and commits the net. A refund's
// clawback row references the share, so a refund in flight while the
// decision is made is waited for and counted; one that commits after it is
// a refund after the transfer (recorded against the share, never resent).
// The send itself holds nothing: Whop is called with no transaction open
// (see Transfer), and RecordShareAttempt records the outcome in a second
// short transaction. Committing the amount before the first send is what
// keeps it fixed across a crash: every later attempt, on any replica,
// resends the same amount under the same key.

// DecideShareTransfer fixes a pending share's transfer amount: what is left
// of it after the refunds recorded so far. A share with nothing left is
// cancelled, and nothing will be sent. A share already decided or finished
// is returned as it is.
func (s *Store) DecideShareTransfer(ctx context.Context, paymentID string) (RevenueShare, error) {
	var sh RevenueShare
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		sh, err = lockShare(ctx, tx, paymentID)
		if err != nil || sh.Status != TransferPending || sh.TransferAmount > 0 {
			return err
		}
		if net := sh.Amount - sh.Clawback; net > 0 {
			sh, err = scanShare(tx.QueryRow(ctx, `UPDATE revenue_shares s SET transfer_amount = $2, updated_at = now()
				WHERE s.id = $1 RETURNING `+shareColumns, sh.ID, net))
			return err
		}
		sh, err = scanShare(tx.QueryRow(ctx, `UPDATE revenue_shares s SET status = 'cancelled', updated_at = now(),
			finished_at = now() WHERE s.id = $1 RETURNING `+shareColumns, sh.ID))
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: decide revenue share %s: %w", paymentID, err)
	}
	return sh, err
}

// RecordShareAttempt stores one transfer attempt's outcome on a pending
// share, in a short transaction of its own, and returns the share as it is
// afterwards. A share no longer pending (another attempt finished first) is
// returned unchanged.
func (s *Store) RecordShareAttempt(ctx context.Context, paymentID string, o TransferOutcome) (RevenueShare, error) {
	sh, err := scanShare(s.pool.QueryRow(ctx, recordAttemptSQL("revenue_shares s", "s.payment_id", shareColumns),
		paymentID, o.Status, nullIfEmpty(o.TransferID), feeIfPaid(o), o.Error))
	if errors.Is(err, ErrNotFound) {
		return s.RevenueShareByPayment(ctx, paymentID)
	}
	if err != nil {
		return sh, fmt.Errorf("ledger: record revenue share %s attempt: %w", paymentID, err)
	}
	return sh, nil
}

// lockShare locks a share's row, then reads it in a statement of its own:
// a read in the locking statement would use a snapshot from before the
// wait and miss a clawback committed by the refund the lock waited for.
func lockShare(ctx context.Context, tx pgx.Tx, paymentID string) (RevenueShare, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM revenue_shares WHERE payment_id = $1 FOR UPDATE`, paymentID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return RevenueShare{}, ErrNotFound
	}
	if err != nil {
		return RevenueShare{}, err
	}
	return scanShare(tx.QueryRow(ctx, `SELECT `+shareColumns+` FROM revenue_shares s WHERE s.id = $1`, id))
}
