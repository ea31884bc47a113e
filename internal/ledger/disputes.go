package ledger

import (
	"context"
	"errors"
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
	// ReportedAt is Whop's time of the latest report kept that carried
	// one (a v1 event's timestamp); a report of no time that stands keeps
	// it. Zero when none did (legacy deliveries, rows from before 000019).
	ReportedAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// disputeStage is how far along its life a dispute status is: an inquiry
// (warning_…) waits for a response, is under review, and closes, or
// escalates to a dispute proper, which waits for a response, is under
// review and is decided (won, lost) or closed. 0 for a status the app
// does not know ("other"), which never replaces a known one.
func disputeStage(status string) int {
	switch status {
	case "warning_needs_response":
		return 1
	case "warning_under_review":
		return 2
	case "warning_closed":
		return 3
	case "needs_response":
		return 4
	case "under_review":
		return 5
	case "won", "lost", "closed":
		return 6
	}
	return 0
}

// disputeReportStale says why a report of a dispute is older than the
// status kept, or "" when it replaces it. Deliveries arrive in any order,
// and may come again with a fresh time (a re-sent event): a dispute never
// goes back along its life, so a report less far along is stale whatever
// its time, and a late dispute.created never reopens a decided dispute.
// Within one stage, a report Whop made before the kept one is stale; when
// either time is unknown (a legacy delivery, a row from before 000019),
// the last one read stands.
func disputeReportStale(kept Dispute, in Dispute) string {
	switch inStage, keptStage := disputeStage(in.Status), disputeStage(kept.Status); {
	case inStage < keptStage:
		return fmt.Sprintf("dispute %s is already %s, further along than %s", kept.ID, kept.Status, in.Status)
	case inStage > keptStage || kept.ReportedAt.IsZero() || in.ReportedAt.IsZero():
		return ""
	case in.ReportedAt.Before(kept.ReportedAt):
		return fmt.Sprintf("dispute %s is %s as Whop reported at %s, after this %s (%s)", kept.ID, kept.Status,
			kept.ReportedAt.UTC().Format(time.RFC3339Nano), in.Status, in.ReportedAt.UTC().Format(time.RFC3339Nano))
	}
	return ""
}

// RecordDispute stores a dispute or its newer status, linked to the purchase
// its payment fulfilled, and returns why it kept the status it had ("" when
// it recorded this one): a report older than the one kept changes nothing
// but the link (disputeReportStale). A report of no time that stands keeps
// the time kept. Credits are not moved: a dispute may still be won; the
// creator sees it and decides.
func (s *Store) RecordDispute(ctx context.Context, dp Dispute, d *Delivery) (ignored string, err error) {
	err = s.withDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		// A dispute may arrive before its payment is matched to a purchase;
		// a later report then fills in the link, and never replaces one.
		var at *time.Time
		if !dp.ReportedAt.IsZero() {
			at = &dp.ReportedAt
		}
		var purchaseID string
		err := tx.QueryRow(ctx, `
			INSERT INTO disputes (id, payment_id, purchase_id, amount, currency, status, reason, reported_at)
			VALUES ($1, $2, (SELECT id FROM purchases WHERE payment_id = $2), $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO NOTHING
			RETURNING COALESCE(purchase_id, '')`,
			dp.ID, dp.PaymentID, dp.Amount, dp.Currency, dp.Status, dp.Reason, at).Scan(&purchaseID)
		if errors.Is(err, pgx.ErrNoRows) {
			// Known: compare with the report kept, under the row's lock.
			kept := Dispute{ID: dp.ID}
			var keptAt *time.Time
			if err = tx.QueryRow(ctx, `SELECT status, reported_at FROM disputes WHERE id = $1 FOR UPDATE`, dp.ID).
				Scan(&kept.Status, &keptAt); err != nil {
				return "", err
			}
			if keptAt != nil {
				kept.ReportedAt = *keptAt
			}
			ignored = disputeReportStale(kept, dp)
			err = tx.QueryRow(ctx, `
				UPDATE disputes SET
				       status = CASE WHEN $2 THEN $3 ELSE status END,
				       amount = CASE WHEN $2 THEN $4 ELSE amount END,
				       reason = CASE WHEN $2 THEN $5 ELSE reason END,
				       reported_at = CASE WHEN $2 THEN COALESCE($6, reported_at) ELSE reported_at END,
				       updated_at = CASE WHEN $2 THEN now() ELSE updated_at END,
				       purchase_id = COALESCE(purchase_id, (SELECT id FROM purchases WHERE payment_id = disputes.payment_id))
				 WHERE id = $1
				RETURNING COALESCE(purchase_id, '')`,
				dp.ID, ignored == "", dp.Status, dp.Amount, dp.Reason, at).Scan(&purchaseID)
		}
		if err == nil {
			err = linkDelivery(ctx, tx, d, purchaseID)
		}
		if ignored != "" {
			return "ignored: " + ignored, err
		}
		return "dispute " + dp.Status, err
	})
	if err != nil {
		return "", fmt.Errorf("ledger: record dispute: %w", err)
	}
	return ignored, nil
}

// DisputesForPayment returns a payment's disputes.
func (s *Store) DisputesForPayment(ctx context.Context, paymentID string) ([]Dispute, error) {
	return queryAll(ctx, s.pool, "disputes", func(row pgx.CollectableRow) (Dispute, error) {
		var dp Dispute
		var at *time.Time
		err := row.Scan(&dp.ID, &dp.PaymentID, &dp.PurchaseID, &dp.Amount, &dp.Currency, &dp.Status, &dp.Reason, &at,
			&dp.CreatedAt, &dp.UpdatedAt)
		if at != nil {
			dp.ReportedAt = *at
		}
		return dp, err
	}, `
		SELECT id, payment_id, COALESCE(purchase_id, ''), amount, currency, status, reason, reported_at, created_at, updated_at
		  FROM disputes WHERE payment_id = $1 ORDER BY created_at`, paymentID)
}
