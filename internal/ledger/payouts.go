package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TransferStatus is where a payout or a revenue share stands with Whop.
type TransferStatus string

// Transfer statuses. Pending rows are retried by their job; paid, failed
// and cancelled rows are final (the database refuses to change them).
const (
	TransferPending TransferStatus = "pending"
	TransferPaid    TransferStatus = "paid"
	TransferFailed  TransferStatus = "failed"
	// TransferCancelled is a revenue share refunded in full before its
	// transfer was decided: nothing was sent, nothing is owed.
	TransferCancelled TransferStatus = "cancelled"
)

// Payout is money an admin sent from the company's Whop ledger account.
type Payout struct {
	ID                string
	CompanyID         string
	RequestedBy       string // the admin's user id
	RecipientInput    string // what the admin typed: a username or a user id
	RecipientID       string
	RecipientUsername string
	LedgerAccountID   string
	Amount            int64 // minor units of Currency
	Currency          string
	Fee               int64 // the fee the ledger account reported when asked
	ChargedFee        int64 // the fee Whop's transfer took (0 until paid)
	Notes             string
	IdempotencyKey    string // the admin's key, unique per company
	TransferKey       string // Whop's idempotence key, derived from ID
	Status            TransferStatus
	TransferID        string
	Attempts          int
	LastError         string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	FinishedAt        time.Time // zero while pending
}

// NewPayout is a payout to record before Whop is called.
type NewPayout struct {
	ID, CompanyID, RequestedBy            string
	RecipientInput, RecipientID, Username string
	LedgerAccountID                       string
	Amount, Fee                           int64
	Currency, Notes, IdempotencyKey       string
	RetryAt                               time.Time // when the safety-net job first runs
}

// PayoutTransferKey is the idempotence key Whop sees for a payout.
func PayoutTransferKey(id string) string { return "creditkit:payout:" + id }

const payoutColumns = `id, company_id, requested_by, recipient_input, recipient_id, recipient_username,
	ledger_account_id, amount, currency, fee, COALESCE(charged_fee, 0), notes, idempotency_key, transfer_key,
	status, COALESCE(transfer_id, ''), attempts, last_error, created_at, updated_at,
	COALESCE(finished_at, 'epoch'::timestamptz)`

func scanPayout(row pgx.Row) (Payout, error) {
	var p Payout
	err := row.Scan(&p.ID, &p.CompanyID, &p.RequestedBy, &p.RecipientInput, &p.RecipientID, &p.RecipientUsername,
		&p.LedgerAccountID, &p.Amount, &p.Currency, &p.Fee, &p.ChargedFee, &p.Notes, &p.IdempotencyKey, &p.TransferKey,
		&p.Status, &p.TransferID, &p.Attempts, &p.LastError, &p.CreatedAt, &p.UpdatedAt, &p.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	if p.FinishedAt.Equal(time.Unix(0, 0)) {
		p.FinishedAt = time.Time{}
	}
	return p, err
}

// CreatePayout records a pending payout and, in the same transaction, the
// job that retries it, so a payout never exists without something that
// will finish it. When the company already used the idempotency key,
// nothing is written and the earlier payout is returned with created false.
func (s *Store) CreatePayout(ctx context.Context, n NewPayout) (p Payout, created bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		p, err = scanPayout(tx.QueryRow(ctx, `
			INSERT INTO payouts (id, company_id, requested_by, recipient_input, recipient_id, recipient_username,
			                     ledger_account_id, amount, currency, fee, notes, idempotency_key, transfer_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (company_id, idempotency_key) DO NOTHING
			RETURNING `+payoutColumns,
			n.ID, n.CompanyID, n.RequestedBy, n.RecipientInput, n.RecipientID, n.Username, n.LedgerAccountID,
			n.Amount, n.Currency, n.Fee, n.Notes, n.IdempotencyKey, PayoutTransferKey(n.ID)))
		if err != nil {
			return err
		}
		created = true
		return s.enqueue(ctx, tx, PayoutJob{PayoutID: p.ID}, n.RetryAt)
	})
	if errors.Is(err, ErrNotFound) {
		// The key was used before (perhaps by a concurrent retry of the
		// same request): answer with that payout.
		p, err = s.PayoutByKey(ctx, n.CompanyID, n.IdempotencyKey)
		return p, false, err
	}
	if err != nil {
		return p, false, fmt.Errorf("ledger: create payout: %w", err)
	}
	return p, true, nil
}

// Payout returns a payout by id.
func (s *Store) Payout(ctx context.Context, id string) (Payout, error) {
	p, err := scanPayout(s.pool.QueryRow(ctx, `SELECT `+payoutColumns+` FROM payouts WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: payout: %w", err)
	}
	return p, err
}

// PayoutByKey finds a company's payout by the idempotency key it was asked with.
func (s *Store) PayoutByKey(ctx context.Context, companyID, key string) (Payout, error) {
	p, err := scanPayout(s.pool.QueryRow(ctx,
		`SELECT `+payoutColumns+` FROM payouts WHERE company_id = $1 AND idempotency_key = $2`, companyID, key))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: payout by key: %w", err)
	}
	return p, err
}

// Payouts returns a company's payouts, newest first.
func (s *Store) Payouts(ctx context.Context, companyID string, limit int) ([]Payout, error) {
	return queryAll(ctx, s.pool, "payouts", func(r pgx.CollectableRow) (Payout, error) { return scanPayout(r) },
		`SELECT `+payoutColumns+` FROM payouts
		WHERE company_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, companyID, limit)
}

// TransferOutcome is what one attempt at a Whop transfer came to.
type TransferOutcome struct {
	Status     TransferStatus // paid, failed, or pending (try again later)
	TransferID string         // when paid
	ChargedFee int64          // when paid
	Error      string         // when not paid
}

// RecordPayoutAttempt stores an attempt's outcome on a pending payout and
// returns the payout as it is afterwards. A payout that is no longer pending
// (another attempt finished first) is left as it is.
func (s *Store) RecordPayoutAttempt(ctx context.Context, id string, o TransferOutcome) (Payout, error) {
	p, err := scanPayout(s.pool.QueryRow(ctx, recordAttemptSQL("payouts", "id", payoutColumns),
		id, o.Status, nullIfEmpty(o.TransferID), feeIfPaid(o), o.Error))
	if errors.Is(err, ErrNotFound) {
		return s.Payout(ctx, id)
	}
	if err != nil {
		return p, fmt.Errorf("ledger: record payout attempt: %w", err)
	}
	return p, nil
}

// recordAttemptSQL updates a pending payout or share, found by key, with
// one attempt. Finished rows match nothing, so their guard trigger never
// fires and a late duplicate attempt changes nothing.
func recordAttemptSQL(table, key, columns string) string {
	return `UPDATE ` + table + ` SET status = $2, transfer_id = $3, charged_fee = $4, last_error = $5,
		attempts = attempts + 1, updated_at = now(),
		finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
	 WHERE ` + key + ` = $1 AND status = 'pending'
	RETURNING ` + columns
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func feeIfPaid(o TransferOutcome) *int64 {
	if o.Status != TransferPaid {
		return nil
	}
	return &o.ChargedFee
}
