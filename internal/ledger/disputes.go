package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Dispute is a chargeback or resolution case on a payment, as Whop reports it.
type Dispute struct {
	ID         string
	PaymentID  string
	PurchaseID string // empty when the payment was not one of our purchases
	Amount     int64
	Currency   string
	Status     string
	Reason     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// RecordDispute stores a dispute or its newer status, linked to the purchase
// its payment fulfilled. Credits are not moved: a dispute may still be won;
// the creator sees it and decides.
func (s *Store) RecordDispute(ctx context.Context, dp Dispute, d *Delivery) error {
	err := s.withDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		// A dispute may arrive before its payment is matched to a purchase;
		// an update then fills in the link, and never replaces one.
		var purchaseID string
		err := tx.QueryRow(ctx, `
			INSERT INTO disputes (id, payment_id, purchase_id, amount, currency, status, reason)
			VALUES ($1, $2, (SELECT id FROM purchases WHERE payment_id = $2), $3, $4, $5, $6)
			ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, amount = EXCLUDED.amount,
			       reason = EXCLUDED.reason, updated_at = now(),
			       purchase_id = COALESCE(disputes.purchase_id, EXCLUDED.purchase_id)
			RETURNING COALESCE(purchase_id, '')`,
			dp.ID, dp.PaymentID, dp.Amount, dp.Currency, dp.Status, dp.Reason).Scan(&purchaseID)
		if err == nil {
			err = linkDelivery(ctx, tx, d, purchaseID)
		}
		return "dispute " + dp.Status, err
	})
	if err != nil {
		return fmt.Errorf("ledger: record dispute: %w", err)
	}
	return nil
}

// DisputesForPayment returns a payment's disputes.
func (s *Store) DisputesForPayment(ctx context.Context, paymentID string) ([]Dispute, error) {
	return queryAll(ctx, s.pool, "disputes", pgx.RowToStructByPos[Dispute],
		`
		SELECT id, payment_id, COALESCE(purchase_id, ''), amount, currency, status, reason, created_at, updated_at
		  FROM disputes WHERE payment_id = $1 ORDER BY created_at`, paymentID)
}
