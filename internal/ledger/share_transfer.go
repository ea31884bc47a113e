package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Paying a revenue share takes two steps, each a transaction holding the
// share's row lock. DecideShareTransfer fixes the amount, the share less
// the refunds recorded against it, and commits it before anything is sent;
// TransferShare then sends exactly that amount and records the outcome. A
// refund's clawback row references the share, so a refund arriving during
// either step waits for the lock and is recorded after the amount was
// fixed: a refund after the share was paid. Committing the amount before
// the first send is what keeps it fixed across a crash: every later
// attempt, on any replica, resends the same amount under the same key.

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

// TransferShare makes one transfer attempt for a decided, pending share:
// it locks the row, calls send with the share while holding the lock (the
// caller's transfer, of TransferAmount under TransferKey), and records the
// outcome in the same transaction. A share no longer pending is returned
// as it is without calling send; one not decided yet is an error.
//
// The transaction is begun and committed by hand rather than with
// pgx.BeginFunc so that the outcome is recorded and committed even when
// ctx ends during send: the transfer may have happened, and the row must
// say so.
func (s *Store) TransferShare(ctx context.Context, paymentID string, send func(context.Context, RevenueShare) TransferOutcome) (RevenueShare, error) {
	sh, err := s.transferShare(ctx, paymentID, send)
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: revenue share %s transfer: %w", paymentID, err)
	}
	return sh, err
}

func (s *Store) transferShare(ctx context.Context, paymentID string, send func(context.Context, RevenueShare) TransferOutcome) (RevenueShare, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return RevenueShare{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	sh, err := lockShare(ctx, tx, paymentID)
	if err != nil || sh.Status != TransferPending {
		return sh, err
	}
	if sh.TransferAmount <= 0 {
		return sh, errors.New("transfer amount not decided")
	}
	o := send(ctx, sh)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	after, err := scanShare(tx.QueryRow(wctx, recordAttemptSQL("revenue_shares s", "s.id", shareColumns),
		sh.ID, o.Status, nullIfEmpty(o.TransferID), feeIfPaid(o), o.Error))
	if err != nil {
		return sh, fmt.Errorf("record attempt: %w", err)
	}
	return after, tx.Commit(wctx)
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
