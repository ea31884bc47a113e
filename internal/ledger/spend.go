package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Item is something credits buy.
type Item struct {
	ID          string
	Name        string
	Description string
	Cost        int64
}

// SpendRequest debits one item's cost from a member's wallet.
type SpendRequest struct {
	ExperienceID   string
	UserID         string
	ItemID         string
	IdempotencyKey string
}

// Spend is a recorded debit.
type Spend struct {
	ID           int64
	ExperienceID string
	ItemID       string
	Cost         int64
	BalanceAfter int64
	CreatedAt    time.Time
	// Replayed is true when the key had been used before and this is the
	// first result returned again; nothing was debited now.
	Replayed bool
}

// spendSQL debits, appends the entry and records the spend in one statement
// (one round trip, one implicit transaction). The WHERE balance >= cost
// makes the debit conditional under the row lock, so concurrent spenders
// can never overdraw, and a negative balance can never spend.
const spendSQL = `
WITH item AS (
	SELECT id, cost FROM spend_items WHERE id = $3
), debit AS (
	UPDATE wallets w SET balance = w.balance - item.cost, updated_at = now()
	  FROM item
	 WHERE w.experience_id = $1 AND w.user_id = $2 AND w.balance >= item.cost
	RETURNING w.id AS wallet_id, w.balance, item.id AS item_id, item.cost
), entry AS (
	INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
	SELECT wallet_id, 'spend', -cost, balance, item_id, 'spend:' || $2 || ':' || $4 FROM debit
	RETURNING id, wallet_id, balance_after
)
INSERT INTO spends (wallet_id, user_id, item_id, cost, idempotency_key, ledger_entry_id, balance_after)
SELECT entry.wallet_id, $2, debit.item_id, debit.cost, $4, entry.id, entry.balance_after
  FROM entry JOIN debit ON debit.wallet_id = entry.wallet_id
RETURNING id, item_id, cost, balance_after, created_at`

// Spend debits atomically. The same key with the same item and experience
// returns the first result (Replayed); with anything else it is
// ErrIdempotencyConflict. Not enough credits is *InsufficientCreditsError.
func (s *Store) Spend(ctx context.Context, r SpendRequest) (Spend, error) {
	sp := Spend{ExperienceID: r.ExperienceID}
	err := s.pool.QueryRow(ctx, spendSQL, r.ExperienceID, r.UserID, r.ItemID, r.IdempotencyKey).
		Scan(&sp.ID, &sp.ItemID, &sp.Cost, &sp.BalanceAfter, &sp.CreatedAt)
	switch {
	case err == nil:
		return sp, nil
	case isUniqueViolation(err, ""):
		// The key was used before (perhaps by a concurrent click): the whole
		// statement rolled back, so answer with the first result.
		return s.replaySpend(ctx, r)
	case errors.Is(err, pgx.ErrNoRows):
		if prev, err := s.replaySpend(ctx, r); !errors.Is(err, ErrNotFound) {
			return prev, err
		}
		return sp, s.whyNoSpend(ctx, r)
	default:
		return sp, fmt.Errorf("ledger: spend: %w", err)
	}
}

func (s *Store) replaySpend(ctx context.Context, r SpendRequest) (Spend, error) {
	sp := Spend{Replayed: true}
	err := s.pool.QueryRow(ctx, `
		SELECT s.id, w.experience_id, s.item_id, s.cost, s.balance_after, s.created_at
		  FROM spends s JOIN wallets w ON w.id = s.wallet_id
		 WHERE s.user_id = $1 AND s.idempotency_key = $2`, r.UserID, r.IdempotencyKey).
		Scan(&sp.ID, &sp.ExperienceID, &sp.ItemID, &sp.Cost, &sp.BalanceAfter, &sp.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Spend{}, ErrNotFound
	}
	if err != nil {
		return Spend{}, fmt.Errorf("ledger: spend replay: %w", err)
	}
	if sp.ItemID != r.ItemID || sp.ExperienceID != r.ExperienceID {
		return Spend{}, ErrIdempotencyConflict
	}
	return sp, nil
}

// whyNoSpend explains a debit that matched no row: an unknown item, or a
// balance below the cost (including no wallet at all, which is 0).
func (s *Store) whyNoSpend(ctx context.Context, r SpendRequest) error {
	var cost int64
	err := s.pool.QueryRow(ctx, `SELECT cost FROM spend_items WHERE id = $1`, r.ItemID).Scan(&cost)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUnknownItem
	}
	if err != nil {
		return fmt.Errorf("ledger: spend: %w", err)
	}
	bal, err := s.Balance(ctx, r.ExperienceID, r.UserID)
	if err != nil {
		return err
	}
	return &InsufficientCreditsError{Balance: bal, Cost: cost}
}

// WalletView is everything the member's page shows from the database.
type WalletView struct {
	Balance  int64
	Items    []Item
	Receipts []Purchase
}

// WalletView reads a member's balance, the items on offer and their newest
// purchases in one round trip (a pgx batch): the experience page is the
// app's most frequent request.
func (s *Store) WalletView(ctx context.Context, experienceID, userID string, receipts int) (WalletView, error) {
	var v WalletView
	b := &pgx.Batch{}
	b.Queue(`SELECT COALESCE((SELECT balance FROM wallets WHERE experience_id = $1 AND user_id = $2), 0)`,
		experienceID, userID).QueryRow(func(row pgx.Row) error { return row.Scan(&v.Balance) })
	b.Queue(`SELECT id, name, description, cost FROM spend_items ORDER BY position, id`).Query(func(rows pgx.Rows) error {
		var err error
		v.Items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Item])
		return err
	})
	b.Queue(`SELECT `+purchaseColumns+` FROM purchases WHERE experience_id = $1 AND user_id = $2
		ORDER BY created_at DESC, id DESC LIMIT $3`, experienceID, userID, receipts).Query(func(rows pgx.Rows) error {
		var err error
		v.Receipts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Purchase, error) { return scanPurchase(r) })
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return WalletView{}, fmt.Errorf("ledger: wallet view: %w", err)
	}
	return v, nil
}
