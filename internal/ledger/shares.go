package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ShareTerms is the revenue share a fulfilment schedules: billing decides
// them, Settle stores them with the fulfilment, and the database checks
// that Amount = PaidAmount × BasisPoints / 10,000, rounded down. The share
// goes to the company the purchase was made in, and there is none when that
// is FromCompanyID itself (a sale in the owner's own experience). Its base
// is the settlement's PaidAmount, its currency the purchase's; the
// payment's share is recorded exactly once (its payment id is UNIQUE), with
// a job unique by its arguments.
type ShareTerms struct {
	FromCompanyID string // the app owner's company, which received the payment
	BasisPoints   int64
	Amount        int64
}

// RevenueShare is one purchase's share, with what refunds took back from it.
type RevenueShare struct {
	ID            int64
	PaymentID     string
	PurchaseID    string
	FromCompanyID string
	ToCompanyID   string
	BasisPoints   int64
	BaseAmount    int64
	Amount        int64
	Currency      string
	TransferKey   string // Whop's idempotence key, derived from the payment id
	// TransferAmount is what the transfer carries: the net share, decided
	// once before the first attempt is sent and resent unchanged by every
	// retry. It is 0 until decided, and for a cancelled share.
	TransferAmount int64
	Status         TransferStatus
	TransferID     string
	ChargedFee     int64
	Attempts       int
	LastError      string
	// RefundedAmount is the purchase's refund the clawback accounts for, and
	// Clawback the creator's part of it. What was recorded before the
	// transfer was decided is withheld from it (see Withheld); the rest is
	// recorded against the share, not moved, so the owner sees what a
	// creator was paid for refunded sales.
	RefundedAmount int64
	Clawback       int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FinishedAt     time.Time // zero while pending
}

// Withheld is the part of the share refunds took back before its transfer
// was decided, so it is never sent: all of a cancelled share, and until the
// decision the clawback so far.
func (r RevenueShare) Withheld() int64 {
	switch {
	case r.Status == TransferCancelled:
		return r.Amount
	case r.TransferAmount > 0:
		return r.Amount - r.TransferAmount
	}
	return r.Clawback
}

// ClawbackAfterTransfer is the part of the clawback recorded once the
// transfer's amount was fixed: what the creator is paid for sales that were
// refunded since.
func (r RevenueShare) ClawbackAfterTransfer() int64 { return r.Clawback - r.Withheld() }

// ShareTransferKey is the idempotence key Whop sees for a payment's share.
func ShareTransferKey(paymentID string) string { return "creditkit:revenue_share:" + paymentID }

const shareColumns = `s.id, s.payment_id, s.purchase_id, s.from_company_id, s.to_company_id, s.basis_points,
	s.base_amount, s.amount, s.currency, s.transfer_key, COALESCE(s.transfer_amount, 0), s.status, COALESCE(s.transfer_id, ''),
	COALESCE(s.charged_fee, 0), s.attempts, s.last_error,
	COALESCE((SELECT max(refunded_total) FROM revenue_share_clawbacks c WHERE c.share_id = s.id), 0),
	COALESCE((SELECT max(clawback_total) FROM revenue_share_clawbacks c WHERE c.share_id = s.id), 0),
	s.created_at, s.updated_at, COALESCE(s.finished_at, 'epoch'::timestamptz)`

func scanShare(row pgx.Row) (RevenueShare, error) {
	var r RevenueShare
	err := row.Scan(&r.ID, &r.PaymentID, &r.PurchaseID, &r.FromCompanyID, &r.ToCompanyID, &r.BasisPoints,
		&r.BaseAmount, &r.Amount, &r.Currency, &r.TransferKey, &r.TransferAmount, &r.Status, &r.TransferID,
		&r.ChargedFee, &r.Attempts, &r.LastError, &r.RefundedAmount, &r.Clawback,
		&r.CreatedAt, &r.UpdatedAt, &r.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if r.FinishedAt.Equal(time.Unix(0, 0)) {
		r.FinishedAt = time.Time{}
	}
	return r, err
}

// RevenueShareByPayment returns the share a payment's purchase scheduled.
func (s *Store) RevenueShareByPayment(ctx context.Context, paymentID string) (RevenueShare, error) {
	r, err := scanShare(s.pool.QueryRow(ctx, `SELECT `+shareColumns+` FROM revenue_shares s WHERE s.payment_id = $1`, paymentID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: revenue share: %w", err)
	}
	return r, err
}

// ShareSide says which end of the shares a company is on.
type ShareSide int

// The two sides: the owner pays shares out, creators receive them.
const (
	SharesPaidBy ShareSide = iota
	SharesPaidTo
)

// ShareSummary totals a company's shares on one side. Paid + Pending +
// Failed + Withheld is what all the shares came to.
type ShareSummary struct {
	Count     int64 // every share, whatever its status
	PaidCount int64 // the shares transferred
	Paid      int64 // transferred: the amounts paid shares carried
	Pending   int64 // still to transfer: decided amounts, or the net so far
	Failed    int64 // Whop refused to transfer it
	// Withheld is what refunds took off shares before they were sent (all
	// of a cancelled share); it is never transferred.
	Withheld  int64
	Cancelled int64 // shares refunded in full before anything was sent
	// Clawback is recorded against shares for refunds that came after
	// their amount was fixed: what creators are paid for refunded sales.
	Clawback       int64
	RefundedShares int64 // how many shares such a refund touched
}

// shareTotalsSQL sums a company's shares on one side ($1 the company, $2
// the currency; the side's column is spliced in). withheld follows
// RevenueShare.Withheld, so the totals and the rows agree.
const shareTotalsSQL = `
WITH x AS (
	SELECT s.status, s.amount, COALESCE(c.total, 0) AS clawback,
	       CASE WHEN s.status = 'cancelled' THEN s.amount
	            ELSE s.amount - COALESCE(s.transfer_amount, s.amount - COALESCE(c.total, 0)) END AS withheld
	  FROM revenue_shares s
	  LEFT JOIN (SELECT share_id, max(clawback_total) AS total FROM revenue_share_clawbacks GROUP BY share_id) c
	    ON c.share_id = s.id
	 WHERE %s = $1 AND s.currency = $2
)
SELECT count(*), count(*) FILTER (WHERE status = 'paid'),
       COALESCE(sum(amount - withheld) FILTER (WHERE status = 'paid'), 0),
       COALESCE(sum(amount - withheld) FILTER (WHERE status = 'pending'), 0),
       COALESCE(sum(amount - withheld) FILTER (WHERE status = 'failed'), 0),
       COALESCE(sum(withheld), 0),
       count(*) FILTER (WHERE status = 'cancelled'),
       COALESCE(sum(clawback - withheld), 0),
       count(*) FILTER (WHERE clawback > withheld)
  FROM x`

// RevenueShares returns a company's newest shares on one side, with the
// totals over all of them, in one currency.
func (s *Store) RevenueShares(ctx context.Context, companyID string, side ShareSide, currency string, limit int) ([]RevenueShare, ShareSummary, error) {
	col := "s.from_company_id"
	if side == SharesPaidTo {
		col = "s.to_company_id"
	}
	var sum ShareSummary
	var out []RevenueShare
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		// One snapshot, so the totals count the rows shown (as in RevenueReport).
		err := tx.QueryRow(ctx, fmt.Sprintf(shareTotalsSQL, col), companyID, currency).
			Scan(&sum.Count, &sum.PaidCount, &sum.Paid, &sum.Pending, &sum.Failed, &sum.Withheld, &sum.Cancelled, &sum.Clawback, &sum.RefundedShares)
		if err != nil {
			return fmt.Errorf("totals: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+shareColumns+` FROM revenue_shares s
			WHERE `+col+` = $1 AND s.currency = $2 ORDER BY s.created_at DESC, s.id DESC LIMIT $3`, companyID, currency, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RevenueShare, error) { return scanShare(r) })
		return err
	})
	if err != nil {
		return nil, ShareSummary{}, fmt.Errorf("ledger: revenue shares: %w", err)
	}
	return out, sum, nil
}
