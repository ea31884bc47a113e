package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Exports are read a page at a time, each page its own short query keyed on
// where the last one ended, so a large export holds no transaction, no
// connection and no snapshot while its file travels to a slow client. What
// they list is append-only (ledger entries, the refund log, grants' own
// entries) or fixed once written (a payout's amount), so the pages of one
// export join up without one snapshot.

// HistoryRow is one line of a member's export: a ledger entry of their
// wallet, or money refunded to them that took back no credit (a refund too
// small to cover a whole credit more), which has no entry.
type HistoryRow struct {
	EntryID      int64 // 0 for money refunded with no credit taken back
	At           time.Time
	Kind         EntryKind
	DisputeLost  bool  // a refund made by a lost dispute
	Credits      int64 // in (+) or out (−)
	BalanceAfter int64
	// Money is what moved with the credits, in minor units of Currency:
	// what a purchase cost (+), what a refund gave back (−); 0 and "" when
	// no money did.
	Money    int64
	Currency string
	// Reference names what the entry was: a purchase (pur_…), a grant
	// (grt_…), a spend (spend_…), a premium membership (mem_…: its
	// period's grant, or credits a refund of that period's payment took
	// back).
	Reference string
	// Detail is the package, the item, the grant's reason or the premium
	// period.
	Detail string
	// Cursor is where this row sits in the history: pass the last row's to
	// read the next page.
	Cursor HistoryCursor
}

// HistoryCursor orders a member's history: by ledger entry, a refund of
// money alone just after the entry that was the wallet's newest when the
// refund was recorded (Entry), by its row of the refund log (Refund, 0 for
// an entry itself).
type HistoryCursor struct {
	Entry, Refund int64
}

// historySQL reads a wallet's history after the cursor ($3, $4), oldest
// first. A refund entry of premium credits names the membership and the
// period, as the period's grant does, and like it moves no money here (the
// premium payment is not a sale of credits). A purchase's refund entry's
// money is its row of the refund log: the one
// keyed with the purchase's refunded credits after it. A row of the log
// that took back no credit has no entry, so it is a row of its own (credits
// 0, the balance as the entry before it left it), placed after the entry
// the log recorded as the wallet's newest when the refund was (migration
// 000020); without it the money column would not add up to what the member
// paid less what they got back. Each part reads at most a page ($5).
const historySQL = `
WITH entries AS (
SELECT e.id AS entry_id, e.created_at, e.kind,
       e.kind = 'refund' AND EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = e.reference AND d.status = 'lost'),
       e.amount, e.balance_after,
       CASE e.kind WHEN 'purchase' THEN COALESCE(pp.paid_amount, 0) WHEN 'refund' THEN -COALESCE(r.amount, 0) ELSE 0 END,
       COALESCE(pp.currency, rp.currency, ''),
       CASE WHEN sp.id IS NOT NULL THEN 'spend_' || sp.id
            ELSE COALESCE(pp.id, rp.id, cg.id, xg.id, pg.membership_id, rg.membership_id, e.reference) END,
       COALESCE(pp.package_id, rp.package_id, sp.title, cg.reason, xg.reason,
                'premium period from ' || to_char(COALESCE(pg.period_start, rg.period_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ''),
       e.id AS pos, 0::bigint AS refund_id
  FROM ledger_entries e
  JOIN wallets w ON w.id = e.wallet_id
  LEFT JOIN purchases pp ON e.kind = 'purchase' AND pp.id = e.reference
  LEFT JOIN purchases rp ON e.kind = 'refund' AND rp.payment_id = e.reference
  LEFT JOIN purchase_refunds r ON r.purchase_id = rp.id AND r.credits > 0
        AND e.idempotency_key = 'refund:' || rp.id || ':' || r.refunded_credits
  LEFT JOIN spends sp ON e.kind = 'spend' AND sp.ledger_entry_id = e.id
  LEFT JOIN premium_grants pg ON e.kind = 'grant' AND pg.ledger_entry_id = e.id
  LEFT JOIN premium_grants rg ON e.kind = 'refund' AND rg.payment_id = e.reference
  LEFT JOIN credit_grants cg ON e.kind = 'grant' AND cg.ledger_entry_id = e.id
  LEFT JOIN credit_grants xg ON e.kind = 'expiry' AND xg.expiry_entry_id = e.id
 WHERE w.experience_id = $1 AND w.user_id = $2 AND e.id > $3
 ORDER BY e.id
 LIMIT $5
), money_alone AS (
SELECT NULL::bigint, r.created_at, 'refund',
       EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = p.payment_id AND d.status = 'lost'),
       0::bigint, COALESCE(before.balance_after, 0), -r.amount, p.currency, p.id, p.package_id,
       COALESCE(r.after_entry_id, 0), r.id
  FROM purchases p
  JOIN purchase_refunds r ON r.purchase_id = p.id AND r.credits = 0
  LEFT JOIN ledger_entries before ON before.id = r.after_entry_id
 WHERE p.experience_id = $1 AND p.user_id = $2 AND (COALESCE(r.after_entry_id, 0), r.id) > ($3, $4)
 ORDER BY COALESCE(r.after_entry_id, 0), r.id
 LIMIT $5
)
SELECT * FROM (SELECT * FROM entries UNION ALL SELECT * FROM money_alone) h
 ORDER BY pos, refund_id
 LIMIT $5`

// HistoryPage returns up to limit rows of a member's history after cursor
// after (the zero cursor: from the first), oldest first. An empty page is
// the end.
func (s *Store) HistoryPage(ctx context.Context, experienceID, userID string, after HistoryCursor, limit int) ([]HistoryRow, error) {
	return queryAll(ctx, s.pool, "history", func(r pgx.CollectableRow) (HistoryRow, error) {
		var h HistoryRow
		var entry *int64
		err := r.Scan(&entry, &h.At, &h.Kind, &h.DisputeLost, &h.Credits, &h.BalanceAfter, &h.Money, &h.Currency,
			&h.Reference, &h.Detail, &h.Cursor.Entry, &h.Cursor.Refund)
		if entry != nil {
			h.EntryID = *entry
		}
		return h, err
	}, historySQL, experienceID, userID, after.Entry, after.Refund, limit)
}

// ExportRow is one line of a company's export: a sale, a refund or
// chargeback, a grant, a grant's expiry, or a payout.
type ExportRow struct {
	At   time.Time
	Type string // sale, refund, chargeback, grant, grant_expiry or payout
	// EntryID is the member's ledger entry; 0 for a payout (money out of
	// the company's Whop balance, not credits) and for a refund of money
	// too small to take back a credit.
	EntryID      int64
	ExperienceID string
	UserID       string // the member; for a payout, its recipient
	Reference    string // the purchase (pur_…), grant (grt_…) or payout (po_…)
	PaymentID    string // Whop's payment of a sale or refund, the transfer of a paid payout
	Credits      int64  // to the member (+) or from them (−)
	// Amount is money, in minor units of Currency: taken (+) for a sale,
	// given back (−) for a refund, sent (−) for a payout; 0 for grants.
	Amount   int64
	Fee      int64  // a payout's transfer fee
	Currency string // "" when no money moved
	Status   string // a payout's: pending, paid or failed
	Detail   string // the package, the grant's reason, the payout's notes
	// Cursor is where this row sits in the export's order: pass the last
	// row's to read the next page.
	Cursor ExportCursor
}

// ExportCursor orders an export: by time, then by kind of source, then by
// the row's key within its source.
type ExportCursor struct {
	At     time.Time
	Source int
	Key    string
}

// ExportPeriod is what a company's export covers: one company's
// experiences, or every company's (the app owner's), for whole UTC days.
type ExportPeriod struct {
	// CompanyID is the company whose sales, refunds and grants are listed,
	// "" for every company's; PayoutCompanyID the company whose payouts
	// are (a company's own).
	CompanyID, PayoutCompanyID string
	From, To                   time.Time // first and last day, inclusive
}

// exportSQL is a company's sales, refunds, grants, expiries and payouts in
// the window, in one order. The scopes are spliced in (%[1]s purchases p,
// %[2]s grants g); $1 is the company, $2 the payouts' company, $3..$4 the
// days, $5..$7 the cursor, $8 the page size. A sale is dated when it was
// fulfilled, as the dashboard's revenue counts it.
const exportSQL = `
WITH w AS (SELECT $3::date::timestamp AT TIME ZONE 'UTC' AS lo, ($4::date + 1)::timestamp AT TIME ZONE 'UTC' AS hi),
rows AS (
	SELECT p.fulfilled_at AS at, 1 AS src, p.id AS key, 'sale' AS type, e.id AS entry_id, p.experience_id, p.user_id,
	       p.id AS reference, p.payment_id, p.credits, p.paid_amount AS amount, 0::bigint AS fee, p.currency,
	       '' AS status, p.package_id AS detail
	  FROM purchases p CROSS JOIN w
	  JOIN ledger_entries e ON e.idempotency_key = 'purchase:' || p.id
	 WHERE %[1]s AND p.status = 'paid' AND p.fulfilled_at >= w.lo AND p.fulfilled_at < w.hi
	UNION ALL
	SELECT r.created_at, 2, lpad(r.id::text, 20, '0'),
	       CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = p.payment_id AND d.status = 'lost')
	            THEN 'chargeback' ELSE 'refund' END,
	       e.id, p.experience_id, p.user_id, p.id, p.payment_id, -r.credits, -r.amount, 0, p.currency, '', p.package_id
	  FROM purchase_refunds r CROSS JOIN w
	  JOIN purchases p ON p.id = r.purchase_id
	  LEFT JOIN ledger_entries e ON r.credits > 0 AND e.idempotency_key = 'refund:' || p.id || ':' || r.refunded_credits
	 WHERE %[1]s AND r.created_at >= w.lo AND r.created_at < w.hi
	UNION ALL
	SELECT g.created_at, 3, g.id, 'grant', g.ledger_entry_id, g.experience_id, g.user_id, g.id, '', g.credits, 0, 0, '', '',
	       g.reason
	  FROM credit_grants g CROSS JOIN w
	 WHERE %[2]s AND g.created_at >= w.lo AND g.created_at < w.hi
	UNION ALL
	SELECT g.expired_at, 4, g.id, 'grant_expiry', g.expiry_entry_id, g.experience_id, g.user_id, g.id, '', -g.expired, 0, 0,
	       '', '', g.reason
	  FROM credit_grants g CROSS JOIN w
	 WHERE %[2]s AND g.expired > 0 AND g.expired_at >= w.lo AND g.expired_at < w.hi
	UNION ALL
	SELECT po.created_at, 5, po.id, 'payout', NULL, '', po.recipient_id, po.id, COALESCE(po.transfer_id, ''), 0,
	       -po.amount, COALESCE(po.charged_fee, po.fee), po.currency, po.status, po.notes
	  FROM payouts po CROSS JOIN w
	 WHERE po.company_id = $2 AND po.created_at >= w.lo AND po.created_at < w.hi
)
SELECT at, src, key, type, COALESCE(entry_id, 0), experience_id, user_id, reference, COALESCE(payment_id, ''), credits,
       amount, fee, currency, status, detail
  FROM rows
 WHERE (at, src, key) > ($5::timestamptz, $6::int, $7::text)
 ORDER BY at, src, key
 LIMIT $8`

// ExportPage returns up to limit rows of a company's export after cursor
// after (the zero cursor: from the start). An empty page is the end.
func (s *Store) ExportPage(ctx context.Context, p ExportPeriod, after ExportCursor, limit int) ([]ExportRow, error) {
	purchases, grants := `p.company_id = $1`, `g.company_id = $1`
	if p.CompanyID == "" {
		purchases, grants = `$1::text = ''`, `$1::text = ''`
	}
	if after.At.IsZero() {
		after.At = time.Unix(0, 0)
	}
	return queryAll(ctx, s.pool, "export", func(r pgx.CollectableRow) (ExportRow, error) {
		var x ExportRow
		err := r.Scan(&x.Cursor.At, &x.Cursor.Source, &x.Cursor.Key, &x.Type, &x.EntryID, &x.ExperienceID, &x.UserID,
			&x.Reference, &x.PaymentID, &x.Credits, &x.Amount, &x.Fee, &x.Currency, &x.Status, &x.Detail)
		x.At = x.Cursor.At
		x.Detail = strings.TrimSpace(x.Detail)
		return x, err
	},
		fmt.Sprintf(exportSQL, purchases, grants), p.CompanyID, p.PayoutCompanyID,
		utcDay(p.From), utcDay(p.To), after.At, after.Source, after.Key, limit)
}
