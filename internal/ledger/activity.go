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
	// PeriodStart is the premium billing period a grant is for, or whose
	// credits a refund entry took back (zero for other entries).
	PeriodStart time.Time
	// Grant is the admin's grant a grant or expiry entry is about (nil for
	// other entries and for premium grants).
	Grant *EntryGrant
}

// EntryGrant is what a member's history shows of a grant.
type EntryGrant struct {
	ID        string
	Reason    string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	Expired   int64     // taken out at expiry, once it has run
	ExpiredAt time.Time
}

// GrantedCredits is the part of a wallet's balance that grants still hold.
type GrantedCredits struct {
	Credits int64 // left of grants not yet expired
	// NextExpiry is the soonest expiry among them, and NextExpiring what
	// is left of the grants expiring then (zero when none expires).
	NextExpiry   time.Time
	NextExpiring int64
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
	// Granted is how much of Balance is granted credits, apart from bought.
	Granted GrantedCredits
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
			var period, granted, expires, expiredAt *time.Time
			var grantID, reason *string
			var expired *int64
			err := r.Scan(&a.ID, &a.Kind, &a.Amount, &a.BalanceAfter, &a.CreatedAt, &a.PackageID, &a.DisputeLost,
				&a.ItemID, &a.ItemName, &period, &grantID, &reason, &granted, &expires, &expired, &expiredAt)
			a.PeriodStart = deref(period)
			if grantID != nil {
				a.Grant = &EntryGrant{ID: *grantID, Reason: *reason, CreatedAt: deref(granted), ExpiresAt: deref(expires),
					ExpiredAt: deref(expiredAt)}
				if expired != nil {
					a.Grant.Expired = *expired
				}
			}
			return a, err
		})
		if err != nil {
			return err
		}
		page.Granted, err = grantedCredits(ctx, tx, experienceID, userID)
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

// grantedCredits sums what a wallet's unexpired grants still hold.
func grantedCredits(ctx context.Context, tx pgx.Tx, experienceID, userID string) (GrantedCredits, error) {
	var g GrantedCredits
	var next *time.Time
	err := tx.QueryRow(ctx, `
		WITH live AS (
			SELECT g.credits - g.spent AS left_over, g.expires_at FROM credit_grants g
			  JOIN wallets w ON w.id = g.wallet_id
			 WHERE w.experience_id = $1 AND w.user_id = $2 AND g.expired_at IS NULL AND g.spent < g.credits)
		SELECT COALESCE(sum(left_over), 0)::bigint, min(expires_at),
		       COALESCE(sum(left_over) FILTER (WHERE expires_at = (SELECT min(expires_at) FROM live)), 0)::bigint
		  FROM live`, experienceID, userID).Scan(&g.Credits, &next, &g.NextExpiring)
	g.NextExpiry = deref(next)
	return g, err
}

// activitySQL reads a page of entries with what each was for: a purchase
// entry names its purchase, a refund entry the payment it took back (a
// purchase's, or a premium period's: the grant that payment paid for), a
// spend entry is its spend's, a grant entry its premium period's or its
// admin's grant, an expiry entry the grant it ended.
const activitySQL = `
SELECT e.id, e.kind, e.amount, e.balance_after, e.created_at,
       COALESCE(pp.package_id, rp.package_id, ''),
       e.kind = 'refund' AND EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = e.reference AND d.status = 'lost'),
       COALESCE(sp.item_id, ''), COALESCE(sp.title, ''),
       COALESCE(g.period_start, rg.period_start),
       COALESCE(cg.id, xg.id), COALESCE(cg.reason, xg.reason), COALESCE(cg.created_at, xg.created_at),
       COALESCE(cg.expires_at, xg.expires_at), COALESCE(cg.expired, xg.expired), COALESCE(cg.expired_at, xg.expired_at)
  FROM ledger_entries e
  JOIN wallets w ON w.id = e.wallet_id
  LEFT JOIN purchases pp ON e.kind = 'purchase' AND pp.id = e.reference
  LEFT JOIN purchases rp ON e.kind = 'refund' AND rp.payment_id = e.reference
  LEFT JOIN spends sp ON sp.ledger_entry_id = e.id
  LEFT JOIN premium_grants g ON g.ledger_entry_id = e.id
  LEFT JOIN premium_grants rg ON e.kind = 'refund' AND rg.payment_id = e.reference
  LEFT JOIN credit_grants cg ON e.kind = 'grant' AND cg.ledger_entry_id = e.id
  LEFT JOIN credit_grants xg ON e.kind = 'expiry' AND xg.expiry_entry_id = e.id
 WHERE w.experience_id = $1 AND w.user_id = $2 AND ($3::bigint = 0 OR e.id < $3)
 ORDER BY e.id DESC
 LIMIT $4`
