package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CompanyRevenue is one installing company's part of the app, for the app
// owner: its credit sales over a window, the revenue share it was paid for
// them, and its last sale ever.
type CompanyRevenue struct {
	CompanyID   string
	Experiences int64 // experiences with a sale, ever
	Sales       int64 // in the window
	Gross       int64
	Refunded    int64
	SharePaid   int64 // transferred for the window's sales
	LastSale    time.Time
}

// CompanyRevenues lists every company with a fulfilled credit sale in
// currency, with its figures for sales fulfilled since from; busiest
// (in the window) first.
func (s *Store) CompanyRevenues(ctx context.Context, currency string, from time.Time) ([]CompanyRevenue, error) {
	return queryAll(ctx, s.pool, "company revenues", func(r pgx.CollectableRow) (CompanyRevenue, error) {
		var c CompanyRevenue
		err := r.Scan(&c.CompanyID, &c.Experiences, &c.Sales, &c.Gross, &c.Refunded, &c.SharePaid, &c.LastSale)
		return c, err
	},
		`
		WITH sales AS (
			SELECT p.company_id,
			       count(DISTINCT p.experience_id) AS experiences,
			       count(*) FILTER (WHERE p.fulfilled_at >= $2) AS sales,
			       COALESCE(sum(p.paid_amount) FILTER (WHERE p.fulfilled_at >= $2), 0)::bigint AS gross,
			       COALESCE(sum(p.refunded_amount) FILTER (WHERE p.fulfilled_at >= $2), 0)::bigint AS refunded,
			       max(p.fulfilled_at) AS last_sale
			  FROM purchases p
			 WHERE p.status = 'paid' AND p.currency = $1
			 GROUP BY p.company_id
		), shares AS (
			SELECT s.to_company_id, COALESCE(sum(s.transfer_amount), 0)::bigint AS paid
			  FROM revenue_shares s
			 WHERE s.status = 'paid' AND s.currency = $1 AND s.created_at >= $2
			 GROUP BY s.to_company_id
		)
		SELECT sales.company_id, sales.experiences, sales.sales, sales.gross, sales.refunded,
		       COALESCE(shares.paid, 0), sales.last_sale
		  FROM sales LEFT JOIN shares ON shares.to_company_id = sales.company_id
		 ORDER BY sales.gross DESC, sales.last_sale DESC, sales.company_id`, currency, from)
}

// ShareTotalsSince sums the shares a company paid out (the owner's side)
// for sales made since from, with the same rules as RevenueShares' totals.
// A share is created in its sale's fulfilment transaction, so its
// created_at is the sale's fulfilled_at.
func (s *Store) ShareTotalsSince(ctx context.Context, fromCompanyID, currency string, from time.Time) (ShareSummary, error) {
	var sum ShareSummary
	err := s.pool.QueryRow(ctx, fmt.Sprintf(shareTotalsSQL, "s.created_at >= $3 AND s.from_company_id"), fromCompanyID, currency, from).
		Scan(&sum.Count, &sum.PaidCount, &sum.Paid, &sum.Pending, &sum.Failed, &sum.Withheld, &sum.Cancelled, &sum.Clawback, &sum.RefundedShares)
	if err != nil {
		return ShareSummary{}, fmt.Errorf("ledger: share totals: %w", err)
	}
	return sum, nil
}

// FulfilledSince returns the purchases fulfilled since from, by the id of
// the payment that paid each: our side of a comparison with Whop's list.
func (s *Store) FulfilledSince(ctx context.Context, from time.Time) (map[string]Purchase, error) {
	return s.purchasesBy(ctx, `status = 'paid' AND fulfilled_at >= $1`, from)
}

// PurchasesByPayment returns the fulfilled purchases, whenever fulfilled,
// of the given payment ids, by payment id.
func (s *Store) PurchasesByPayment(ctx context.Context, paymentIDs []string) (map[string]Purchase, error) {
	return s.purchasesBy(ctx, `payment_id = ANY($1)`, paymentIDs)
}

// PurchasesByID returns the purchases with the given ids, by id.
func (s *Store) PurchasesByID(ctx context.Context, ids []string) (map[string]Purchase, error) {
	out, err := s.purchasesBy(ctx, `id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Purchase, len(out))
	for _, p := range out {
		byID[p.ID] = p
	}
	return byID, nil
}

// RefusalReasons returns why we refused to fulfil each of the given
// payments that we refused (the newest reason), by payment id.
func (s *Store) RefusalReasons(ctx context.Context, paymentIDs []string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (payment_id) payment_id, reason FROM payment_rejections
		WHERE payment_id = ANY($1) ORDER BY payment_id, id DESC`, paymentIDs)
	if err != nil {
		return nil, fmt.Errorf("ledger: refusal reasons: %w", err)
	}
	out := map[string]string{}
	var id, reason string
	_, err = pgx.ForEachRow(rows, []any{&id, &reason}, func() error {
		out[id] = reason
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: refusal reasons: %w", err)
	}
	return out, nil
}

// purchasesBy keys the matching purchases by payment id (by id for those
// with none yet).
func (s *Store) purchasesBy(ctx context.Context, where string, arg any) (map[string]Purchase, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+purchaseColumns+` FROM purchases WHERE `+where, arg)
	if err != nil {
		return nil, fmt.Errorf("ledger: purchases: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Purchase, error) { return scanPurchase(r) })
	if err != nil {
		return nil, fmt.Errorf("ledger: purchases: %w", err)
	}
	out := make(map[string]Purchase, len(list))
	for _, p := range list {
		key := p.PaymentID
		if key == "" {
			key = p.ID
		}
		out[key] = p
	}
	return out, nil
}
