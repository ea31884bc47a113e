package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ActivityEntry is one ledger entry of a member's wallet with what it was
// for, read from the rows the same transaction wrote with it.
type ActivityEntry struct {
	ID           int64
	Kind         EntryKind
	Amount       int64 // positive credits in, negative out
	BalanceAfter int64 // the wallet's running balance after this entry
	CreatedAt    time.Time
	// PackageID is the credit package a purchase or refund entry is about.
	PackageID string
	// DisputeLost marks a refund entry that a lost dispute (a chargeback)
	// made, rather than a refund.
	DisputeLost bool
	// ItemID and ItemName are what a spend bought, named by the title the
	// spend recorded (what the item was called then, whatever the catalog
	// calls it now or whether it still offers it).
	ItemID, ItemName string
	// PeriodStart is the premium billing period a grant is for.
	PeriodStart time.Time
}

// ActivityPage is one page of a wallet's ledger, newest first.
type ActivityPage struct {
	// Balance is the wallet's newest running balance: the current balance,
	// read from the ledger itself, whichever page this is.
	Balance int64
	Entries []ActivityEntry
	// Before is the entry id to pass for the next (older) page; 0 when this
	// page reaches the first entry.
	Before int64
}

// Activity reads a member's ledger newest first, limit entries older than
// entry before (0: from the newest), with the running balance each left.
// Pages are keyed on the entry id, so entries appended meanwhile neither
// shift nor repeat the older pages. Both reads share one snapshot: the
// balance shown above a page is the one its entries lead to.
func (s *Store) Activity(ctx context.Context, experienceID, userID string, before int64, limit int) (ActivityPage, error) {
	var page ActivityPage
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT e.balance_after FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
			 WHERE w.experience_id = $1 AND w.user_id = $2
			 ORDER BY e.id DESC LIMIT 1`, experienceID, userID).Scan(&page.Balance)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // no wallet yet: nothing happened
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, activitySQL, experienceID, userID, before, limit+1)
		if err != nil {
			return err
		}
		page.Entries, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ActivityEntry, error) {
			var a ActivityEntry
			var period *time.Time
			err := r.Scan(&a.ID, &a.Kind, &a.Amount, &a.BalanceAfter, &a.CreatedAt, &a.PackageID, &a.DisputeLost,
				&a.ItemID, &a.ItemName, &period)
			if period != nil {
				a.PeriodStart = *period
			}
			return a, err
		})
		return err
	})
	if err != nil {
		return ActivityPage{}, fmt.Errorf("ledger: activity: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.Before = page.Entries[limit-1].ID
	}
	return page, nil
}

// activitySQL reads a page of entries with what each was for: a purchase
// entry names its purchase, a refund entry the payment it took back, a
// spend entry is its spend's, a grant entry its premium period's.
const activitySQL = `
SELECT e.id, e.kind, e.amount, e.balance_after, e.created_at,
       COALESCE(pp.package_id, rp.package_id, ''),
       e.kind = 'refund' AND EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = e.reference AND d.status = 'lost'),
       COALESCE(sp.item_id, ''), COALESCE(sp.title, ''),
       g.period_start
  FROM ledger_entries e
  JOIN wallets w ON w.id = e.wallet_id
  LEFT JOIN purchases pp ON e.kind = 'purchase' AND pp.id = e.reference
  LEFT JOIN purchases rp ON e.kind = 'refund' AND rp.payment_id = e.reference
  LEFT JOIN spends sp ON sp.ledger_entry_id = e.id
  LEFT JOIN premium_grants g ON g.ledger_entry_id = e.id
 WHERE w.experience_id = $1 AND w.user_id = $2 AND ($3::bigint = 0 OR e.id < $3)
 ORDER BY e.id DESC
 LIMIT $4`
