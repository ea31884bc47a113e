package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SpendRequest debits one item's cost from a member's wallet. The caller
// names the item as the catalog has it now (the catalog is configuration,
// not a table): the spend records that title and cost for good.
type SpendRequest struct {
	ExperienceID   string
	UserID         string
	ItemID         string
	Title          string
	Cost           int64
	IdempotencyKey string
}

// Spend is a recorded debit.
type Spend struct {
	ID           int64
	ExperienceID string
	ItemID       string
	Title        string // the item's title when it was bought
	Cost         int64  // and its cost then
	BalanceAfter int64
	CreatedAt    time.Time
	// Replayed is true when the key had been used before and this is the
	// first result returned again; nothing was debited now.
	Replayed bool
}

// spendSQL debits, appends the entry and records the spend in one statement
// (one round trip, one implicit transaction). The WHERE balance >= cost
// makes the debit conditional under the row lock, so concurrent spenders
// can never overdraw, and a negative balance can never spend. Credits of
// grants past their expiry are not counted, though their expiry job may
// not have taken them out yet: from its expiry on, a grant buys nothing.
// (Which grants the spend uses is the database's to decide, as the entry
// is appended: ledger_entries_allocate_spend, migration 000010.) Should
// an expiry commit while this statement waits for the row lock, the
// subquery still sees that grant as due, which only ever refuses a spend
// the fresh balance would allow, never the reverse.
const spendSQL = `
WITH debit AS (
	UPDATE wallets w SET balance = w.balance - $5::bigint, updated_at = now()
	 WHERE w.experience_id = $1 AND w.user_id = $2
	   AND w.balance - ` + overdueGrantCredits + ` >= $5::bigint
	RETURNING w.id AS wallet_id, w.balance
), entry AS (
	INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
	SELECT wallet_id, 'spend', -$5::bigint, balance, $3, 'spend:' || $2 || ':' || $4 FROM debit
	RETURNING id, wallet_id, balance_after
)
INSERT INTO spends (wallet_id, user_id, item_id, title, cost, idempotency_key, ledger_entry_id, balance_after)
SELECT entry.wallet_id, $2, $3, $6, $5::bigint, $4, entry.id, entry.balance_after FROM entry
RETURNING id, item_id, title, cost, balance_after, created_at`

// overdueGrantCredits is what wallet w's grants past their expiry still
// hold because their expiry job has not run yet: credits in the balance
// that buy nothing. The balance less these is what the wallet can spend.
const overdueGrantCredits = `COALESCE((SELECT sum(g.credits - g.spent) FROM credit_grants g
	WHERE g.wallet_id = w.id AND g.expired_at IS NULL AND g.expires_at <= now()), 0)`

// Spend debits atomically. The same key with the same item and experience
// returns the first result (Replayed), at the cost it had then, even if the
// item was repriced since; with anything else it is ErrIdempotencyConflict.
// Not enough credits is *InsufficientCreditsError, with what the wallet
// can spend as its balance.
//
// Spends of one wallet take turns in the app (walletQueue): at most
// walletTurns of them are at Postgres at once, one holding the row lock and
// one waiting for it, ready to go when it is released; the rest wait here,
// holding no connection. A context that ends while its spend waits leaves
// the queue, nothing spent, with the context's error.
func (s *Store) Spend(ctx context.Context, r SpendRequest) (Spend, error) {
	if r.Cost <= 0 || r.Title == "" {
		return Spend{}, fmt.Errorf("ledger: spend: item %q needs a title and a positive cost", r.ItemID)
	}
	sp := Spend{ExperienceID: r.ExperienceID}
	leave, err := s.spends.enter(ctx, walletKey{r.ExperienceID, r.UserID})
	if err != nil {
		return sp, fmt.Errorf("ledger: spend: %w", err)
	}
	err = s.pool.QueryRow(ctx, spendSQL, r.ExperienceID, r.UserID, r.ItemID, r.IdempotencyKey, r.Cost, r.Title).
		Scan(&sp.ID, &sp.ItemID, &sp.Title, &sp.Cost, &sp.BalanceAfter, &sp.CreatedAt)
	leave()
	switch {
	case err == nil:
		return sp, nil
	case isUniqueViolation(err, ""):
		// The key was used before (perhaps by a concurrent click): the whole
		// statement rolled back, so answer with the first result.
		return s.ReplaySpend(ctx, r)
	case errors.Is(err, pgx.ErrNoRows):
		if prev, err := s.ReplaySpend(ctx, r); !errors.Is(err, ErrNotFound) {
			return prev, err
		}
		// No row debited: what the wallet can spend (0 without a wallet) is
		// below the cost. Say that, not the balance, which may still count
		// grants past their expiry.
		var bal int64
		if err := s.pool.QueryRow(ctx, `SELECT COALESCE((SELECT w.balance - `+overdueGrantCredits+`
			FROM wallets w WHERE w.experience_id = $1 AND w.user_id = $2), 0)`, r.ExperienceID, r.UserID).Scan(&bal); err != nil {
			return sp, fmt.Errorf("ledger: spend: spendable balance: %w", err)
		}
		return sp, &InsufficientCreditsError{Balance: bal, Cost: r.Cost}
	default:
		return sp, fmt.Errorf("ledger: spend: %w", err)
	}
}

// ReplaySpend returns the spend recorded under r's key for r's user: the
// first result of a retried request. ErrNotFound when the key is unused;
// ErrIdempotencyConflict when it was used for another item or experience.
func (s *Store) ReplaySpend(ctx context.Context, r SpendRequest) (Spend, error) {
	sp := Spend{Replayed: true}
	err := s.pool.QueryRow(ctx, `
		SELECT s.id, w.experience_id, s.item_id, s.title, s.cost, s.balance_after, s.created_at
		  FROM spends s JOIN wallets w ON w.id = s.wallet_id
		 WHERE s.user_id = $1 AND s.idempotency_key = $2`, r.UserID, r.IdempotencyKey).
		Scan(&sp.ID, &sp.ExperienceID, &sp.ItemID, &sp.Title, &sp.Cost, &sp.BalanceAfter, &sp.CreatedAt)
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

// WalletView is everything the member's page shows from the database (what
// credits buy comes from configuration), with the user's membership clock
// (MembershipClock) for the premium cache.
type WalletView struct {
	// Balance is what the member can spend: the wallet's balance less the
	// credits of grants past their expiry that their job has not taken out
	// yet (it will, and then the two agree).
	Balance  int64
	Receipts []Receipt // newest first
	// Now is the database's time and MembershipChanged when the user's
	// recorded memberships last changed (zero: never).
	Now, MembershipChanged time.Time
}

// WalletView reads a member's balance, their newest purchases and their
// membership clock in one round trip (a pgx batch): the experience page is
// the app's most frequent request.
func (s *Store) WalletView(ctx context.Context, experienceID, userID string, receipts int) (WalletView, error) {
	var v WalletView
	b := &pgx.Batch{}
	b.Queue(`SELECT COALESCE((SELECT w.balance - `+overdueGrantCredits+` FROM wallets w
		WHERE w.experience_id = $1 AND w.user_id = $2), 0), now(),
		(SELECT updated_at FROM memberships WHERE user_id = $2 ORDER BY updated_at DESC LIMIT 1)`,
		experienceID, userID).QueryRow(func(row pgx.Row) error {
		var changed *time.Time
		err := row.Scan(&v.Balance, &v.Now, &changed)
		v.MembershipChanged = deref(changed)
		return err
	})
	b.Queue(`SELECT `+receiptColumns+` FROM purchases WHERE experience_id = $1 AND user_id = $2
		ORDER BY created_at DESC, id DESC LIMIT $3`, experienceID, userID, receipts).Query(func(rows pgx.Rows) error {
		defer rows.Close()
		v.Receipts = make([]Receipt, 0, min(max(receipts, 0), 50)) // room for a page's worth, not for whatever is asked
		for rows.Next() {
			v.Receipts = append(v.Receipts, Receipt{})
			if err := scanReceipt(rows, &v.Receipts[len(v.Receipts)-1]); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return WalletView{}, fmt.Errorf("ledger: wallet view: %w", err)
	}
	return v, nil
}
