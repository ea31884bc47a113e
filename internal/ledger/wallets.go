package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EntryKind says why a ledger entry moved credits.
type EntryKind string

// The kinds of ledger entry.
const (
	KindPurchase   EntryKind = "purchase"
	KindSpend      EntryKind = "spend"
	KindRefund     EntryKind = "refund"
	KindGrant      EntryKind = "grant"
	KindAdjustment EntryKind = "adjustment"
)

// Entry is one append-only ledger line.
type Entry struct {
	ID             int64
	WalletID       int64
	Kind           EntryKind
	Amount         int64
	BalanceAfter   int64
	Reference      string
	IdempotencyKey string
	CreatedAt      time.Time
}

// Balance returns a member's credits in an experience (0 without a wallet).
func (s *Store) Balance(ctx context.Context, experienceID, userID string) (int64, error) {
	var b int64
	err := s.pool.QueryRow(ctx,
		`SELECT balance FROM wallets WHERE experience_id = $1 AND user_id = $2`, experienceID, userID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: balance: %w", err)
	}
	return b, nil
}

// Entries returns a wallet's ledger, oldest first.
func (s *Store) Entries(ctx context.Context, experienceID, userID string) ([]Entry, error) {
	return queryAll(ctx, s.pool, "entries", func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(&e.ID, &e.WalletID, &e.Kind, &e.Amount, &e.BalanceAfter, &e.Reference, &e.IdempotencyKey, &e.CreatedAt)
		return e, err
	},
		`
		SELECT e.id, e.wallet_id, e.kind, e.amount, e.balance_after, e.reference, e.idempotency_key, e.created_at
		  FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
		 WHERE w.experience_id = $1 AND w.user_id = $2
		 ORDER BY e.id`, experienceID, userID)
}

// Mismatch is a wallet whose balance differs from the sum of its entries.
type Mismatch struct {
	WalletID     int64
	Balance      int64
	LedgerSum    int64
	ExperienceID string
	UserID       string
}

// CheckBalances compares every wallet's balance with the sum of its ledger
// entries. The schema's triggers should make this always empty; the check
// exists so tests and operators can see that it is.
func (s *Store) CheckBalances(ctx context.Context) ([]Mismatch, error) {
	return queryAll(ctx, s.pool, "check balances", func(r pgx.CollectableRow) (Mismatch, error) {
		var m Mismatch
		err := r.Scan(&m.WalletID, &m.Balance, &m.LedgerSum, &m.ExperienceID, &m.UserID)
		return m, err
	},
		`
		SELECT w.id, w.balance, COALESCE(SUM(e.amount), 0)::bigint, w.experience_id, w.user_id
		  FROM wallets w LEFT JOIN ledger_entries e ON e.wallet_id = w.id
		 GROUP BY w.id
		HAVING w.balance <> COALESCE(SUM(e.amount), 0)`)
}

// move changes a wallet's balance by amount and appends the matching entry,
// creating the wallet on first use. It never refuses: callers that must not
// overdraw use a conditional debit instead. The idempotency key is UNIQUE,
// so a move that was already made fails instead of happening twice.
func move(ctx context.Context, tx pgx.Tx, experienceID, userID string, kind EntryKind, amount int64, reference, key string) (balance int64, err error) {
	var walletID int64
	err = tx.QueryRow(ctx, `
		INSERT INTO wallets (experience_id, user_id, balance) VALUES ($1, $2, $3)
		ON CONFLICT (experience_id, user_id)
		DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = now()
		RETURNING id, balance`, experienceID, userID, amount).Scan(&walletID, &balance)
	if err != nil {
		return 0, fmt.Errorf("move credits: %w", err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
		VALUES ($1, $2, $3, $4, $5, $6)`, walletID, kind, amount, balance, reference, key)
	if err != nil {
		return 0, fmt.Errorf("append ledger entry: %w", err)
	}
	return balance, nil
}
