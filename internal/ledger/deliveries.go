package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery is a verified webhook delivery. Recording it in the same
// transaction as its effect is what makes a repeat delivery a no-op.
type Delivery struct {
	ID        string // webhook-id, or the id derived for legacy deliveries
	Type      string
	Scheme    string // "standard" or "legacy"
	CompanyID string
	ObjectID  string // the payment, refund, dispute or membership it is about
}

// DeliveryRecord is a processed delivery, as shown to creators for debugging.
type DeliveryRecord struct {
	Delivery
	Outcome    string
	ReceivedAt time.Time
	// PurchaseID is the purchase the delivery turned out to be about, or "".
	PurchaseID string
}

// RecordDelivery records a delivery that has no effect of its own (an event
// type we ignore), so repeats are still recognised and shown.
func (s *Store) RecordDelivery(ctx context.Context, d Delivery, outcome string) error {
	err := s.withDelivery(ctx, &d, func(pgx.Tx) (string, error) { return outcome, nil })
	if err != nil {
		return fmt.Errorf("ledger: record delivery: %w", err)
	}
	return nil
}

// DeliverySeen reports whether a delivery id was already processed: one
// indexed read that lets a repeat delivery be answered without decoding it
// or opening a transaction. (The claim in withDelivery still decides races.)
func (s *Store) DeliverySeen(ctx context.Context, id string) (bool, error) {
	var seen bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1)`, id).Scan(&seen); err != nil {
		return false, fmt.Errorf("ledger: delivery seen: %w", err)
	}
	return seen, nil
}

// RecentDeliveries returns the newest deliveries first, whoever they were
// for: DeliveriesFor as the app owner sees it.
func (s *Store) RecentDeliveries(ctx context.Context, limit int) ([]DeliveryRecord, error) {
	return s.DeliveriesFor(ctx, "", true, limit)
}

// DeliveriesFor returns the newest deliveries a company's admins may see:
// every delivery for the app owner's company (all), otherwise those about
// the purchases made in the company's experiences or addressed to it.
func (s *Store) DeliveriesFor(ctx context.Context, companyID string, all bool, limit int) ([]DeliveryRecord, error) {
	return queryAll(ctx, s.pool, "deliveries", func(r pgx.CollectableRow) (DeliveryRecord, error) {
		var d DeliveryRecord
		err := r.Scan(&d.ID, &d.Type, &d.Scheme, &d.CompanyID, &d.ObjectID, &d.Outcome, &d.ReceivedAt, &d.PurchaseID)
		return d, err
	},
		`
		SELECT d.id, d.event_type, d.scheme, d.company_id, d.object_id, d.outcome, d.received_at, d.purchase_id
		  FROM webhook_deliveries d
		 WHERE $2 OR d.company_id = $1
		    OR d.purchase_id IN (SELECT id FROM purchases WHERE company_id = $1)
		 ORDER BY d.received_at DESC, d.id LIMIT $3`, companyID, all, limit)
}

// linkDelivery notes, inside the effect's transaction, which purchase a
// delivery was about; refund and dispute deliveries name only their own ids.
func linkDelivery(ctx context.Context, tx pgx.Tx, d *Delivery, purchaseID string) error {
	if d == nil || purchaseID == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET purchase_id = $2 WHERE id = $1`, d.ID, purchaseID); err != nil {
		return fmt.Errorf("link delivery: %w", err)
	}
	return nil
}

// withDelivery runs effect in one transaction. With a delivery, it first
// claims the delivery id (a repeat returns ErrDuplicateDelivery and writes
// nothing; a concurrent repeat waits on the unique index, then sees the
// claim) and afterwards stores the outcome effect reports.
func (s *Store) withDelivery(ctx context.Context, d *Delivery, effect func(tx pgx.Tx) (outcome string, err error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if d != nil {
			tag, err := tx.Exec(ctx, `
				INSERT INTO webhook_deliveries (id, event_type, scheme, company_id, object_id, outcome)
				VALUES ($1, $2, $3, $4, $5, 'processing')
				ON CONFLICT (id) DO NOTHING`, d.ID, d.Type, d.Scheme, d.CompanyID, d.ObjectID)
			if err != nil {
				return fmt.Errorf("claim delivery: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return ErrDuplicateDelivery
			}
		}
		outcome, err := effect(tx)
		if err != nil {
			return err
		}
		if d != nil {
			if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET outcome = $2 WHERE id = $1`, d.ID, outcome); err != nil {
				return fmt.Errorf("record delivery outcome: %w", err)
			}
		}
		return nil
	})
}
