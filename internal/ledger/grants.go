package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// PeriodGrant asks for a membership's credits for one billing period.
type PeriodGrant struct {
	// PeriodStart identifies the period, to the second; PeriodEnd is zero when the
	// membership has no renewal period (then it is granted once).
	PeriodStart, PeriodEnd time.Time
	ExperienceID           string // whose wallet receives the credits
	Credits                int64
}

// PremiumGrant is credits given to a premium member for one period.
type PremiumGrant struct {
	ID                     int64
	MembershipID           string
	PeriodStart, PeriodEnd time.Time
	UserID                 string
	ExperienceID           string
	Credits                int64
	LedgerEntryID          int64
	DeliveryID             string // empty when no webhook delivery granted it
	CreatedAt              time.Time
	// PaymentID is the premium payment that paid for the period; empty
	// until the app has seen one (RecordPremiumPayment).
	PaymentID string
	// RefundedAmount is what of that payment was given back (refunds, or
	// all of it after a lost dispute), in minor units of the payment's
	// currency; RefundedCredits how many of the period's credits that took
	// back. Both only grow.
	RefundedAmount, RefundedCredits int64
}

// grantPeriod gives a period's credits once. The membership row is locked
// by the caller's transaction, so two deliveries for one period serialize
// here; the UNIQUE (membership, period) key and the entry's idempotency key
// back that up.
func grantPeriod(ctx context.Context, tx pgx.Tx, m Membership, g PeriodGrant, deliveryID string) (granted, balance int64, err error) {
	start := periodKey(g.PeriodStart)
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM premium_grants WHERE membership_id = $1 AND period_start = $2)`,
		m.ID, start).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("find grant: %w", err)
	}
	if exists || g.Credits <= 0 {
		return 0, 0, nil
	}
	key := "grant:" + m.ID + ":" + strconv.FormatInt(start.UnixMicro(), 10)
	if balance, err = move(ctx, tx, g.ExperienceID, m.UserID, KindGrant, g.Credits, m.ID, key); err != nil {
		return 0, 0, err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO premium_grants (membership_id, period_start, period_end, user_id, experience_id, credits,
		                            ledger_entry_id, delivery_id)
		VALUES ($1, $2, $3, $4, $5, $6, (SELECT id FROM ledger_entries WHERE idempotency_key = $7), $8)`,
		m.ID, start, nullIfZero(g.PeriodEnd), m.UserID, g.ExperienceID, g.Credits, key, nullIfEmpty(deliveryID))
	if err != nil {
		return 0, 0, fmt.Errorf("record grant: %w", err)
	}
	return g.Credits, balance, nil
}

// periodKey identifies a billing period by its start to the second: the
// legacy webhooks carry unix seconds where the v1 API carries milliseconds,
// and one period seen through both must still be granted once.
func periodKey(start time.Time) time.Time { return start.Truncate(time.Second) }

const grantColumns = `id, membership_id, period_start, period_end, user_id, experience_id, credits,
	ledger_entry_id, delivery_id, created_at, COALESCE(payment_id, ''), refunded_amount, refunded_credits`

func scanGrant(row pgx.Row) (PremiumGrant, error) {
	var g PremiumGrant
	var end *time.Time
	var delivery *string
	err := row.Scan(&g.ID, &g.MembershipID, &g.PeriodStart, &end, &g.UserID, &g.ExperienceID, &g.Credits,
		&g.LedgerEntryID, &delivery, &g.CreatedAt, &g.PaymentID, &g.RefundedAmount, &g.RefundedCredits)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, ErrNotFound
	}
	g.PeriodEnd = deref(end)
	if delivery != nil {
		g.DeliveryID = *delivery
	}
	return g, err
}

// PremiumGrants returns a membership's grants, oldest period first.
func (s *Store) PremiumGrants(ctx context.Context, membershipID string) ([]PremiumGrant, error) {
	return queryAll(ctx, s.pool, "premium grants", func(r pgx.CollectableRow) (PremiumGrant, error) { return scanGrant(r) },
		`SELECT `+grantColumns+` FROM premium_grants
		WHERE membership_id = $1 ORDER BY period_start`, membershipID)
}

// PeriodGrantOf returns the grant of a membership's period, or ErrNotFound.
func (s *Store) PeriodGrantOf(ctx context.Context, membershipID string, periodStart time.Time) (PremiumGrant, error) {
	g, err := scanGrant(s.pool.QueryRow(ctx, `SELECT `+grantColumns+` FROM premium_grants
		WHERE membership_id = $1 AND period_start = $2`, membershipID, periodKey(periodStart)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: period grant: %w", err)
	}
	return g, err
}
