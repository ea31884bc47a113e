package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RevenueFigures are the sums over a set of fulfilled purchases, in minor
// units of the report's currency. Refunds and disputes are counted against
// the day (and package) of the sale they undo, so a row reads as "what that
// day's sales came to".
type RevenueFigures struct {
	Sales           int64 // fulfilled purchases
	Credits         int64 // credits sold
	Gross           int64 // what buyers paid
	Refunded        int64 // money given back
	RefundedCredits int64 // credits taken back for it
	Disputes        int64 // disputes opened on these sales
	Disputed        int64 // money those disputes are about
}

// Net is what the sales kept after refunds.
func (f RevenueFigures) Net() int64 { return f.Gross - f.Refunded }

// RevenueDay is one UTC day of a report.
type RevenueDay struct {
	Day time.Time // midnight UTC
	RevenueFigures
}

// PackageRevenue is one credit package's part of a report.
type PackageRevenue struct {
	PackageID string
	RevenueFigures
}

// RevenueReport is a company's credit sales over a window of whole UTC days.
type RevenueReport struct {
	CompanyID string
	Currency  string
	From, To  time.Time        // first and last day, midnight UTC
	Days      []RevenueDay     // every day of the window, oldest first, zeros included
	Packages  []PackageRevenue // busiest first
	Totals    RevenueFigures
}

// revenueSalesSQL selects the window's fulfilled purchases with their
// disputes folded in first, so a purchase with two disputes is not counted
// twice in the sums. Its company filter is spliced in (see the scopes
// below); $1 is the company, $2 the currency, $3..$4 the days. The days'
// edges are midnight UTC, spelled out: a bare date compared with a
// timestamptz is midnight in the session's time zone, which would move
// the window (and part it from the days and the owner's other figures)
// on a database not set to UTC.
const revenueSalesSQL = `
WITH sales AS (
	SELECT (p.fulfilled_at AT TIME ZONE 'UTC')::date AS day, p.package_id, p.credits, p.paid_amount,
	       p.refunded_amount, p.refunded_credits, COALESCE(d.n, 0) AS disputes, COALESCE(d.amount, 0) AS disputed
	  FROM purchases p
	  LEFT JOIN (SELECT purchase_id, count(*) AS n, sum(amount) AS amount FROM disputes
	              WHERE purchase_id IS NOT NULL GROUP BY purchase_id) d ON d.purchase_id = p.id
	 WHERE %s AND p.currency = $2 AND p.status = 'paid'
	   AND p.fulfilled_at >= $3::date::timestamp AT TIME ZONE 'UTC'
	   AND p.fulfilled_at < ($4::date + 1)::timestamp AT TIME ZONE 'UTC'
)`

// The two scopes of a report: one company's experiences, or the whole app
// (every installing company; $1 is then "" and names none).
const (
	scopeCompany = `p.company_id = $1`
	scopeApp     = `$1::text = ''`
)

const figures = `count(s.day), COALESCE(sum(s.credits), 0)::bigint, COALESCE(sum(s.paid_amount), 0)::bigint,
	COALESCE(sum(s.refunded_amount), 0)::bigint, COALESCE(sum(s.refunded_credits), 0)::bigint,
	COALESCE(sum(s.disputes), 0)::bigint, COALESCE(sum(s.disputed), 0)::bigint`

func scanFigures(dst *RevenueFigures) []any {
	return []any{&dst.Sales, &dst.Credits, &dst.Gross, &dst.Refunded, &dst.RefundedCredits, &dst.Disputes, &dst.Disputed}
}

// RevenueReport sums a company's fulfilled credit purchases in currency for
// the UTC days from..to (inclusive), per day and per package.
func (s *Store) RevenueReport(ctx context.Context, companyID, currency string, from, to time.Time) (RevenueReport, error) {
	return s.revenueReport(ctx, scopeCompany, companyID, currency, from, to)
}

// AppRevenueReport is RevenueReport over the whole app: the credit sales of
// every company that installed it (what the app owner's company received).
func (s *Store) AppRevenueReport(ctx context.Context, currency string, from, to time.Time) (RevenueReport, error) {
	return s.revenueReport(ctx, scopeApp, "", currency, from, to)
}

func (s *Store) revenueReport(ctx context.Context, scope, companyID, currency string, from, to time.Time) (RevenueReport, error) {
	sales := fmt.Sprintf(revenueSalesSQL, scope)
	from, to = utcDay(from), utcDay(to)
	rep := RevenueReport{CompanyID: companyID, Currency: currency, From: from, To: to}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		// One snapshot, so the days, the packages and the totals agree.
		rows, err := tx.Query(ctx, sales+`
			SELECT g.day::timestamp AT TIME ZONE 'UTC', `+figures+`
			  FROM generate_series($3::date, $4::date, interval '1 day') AS g(day)
			  LEFT JOIN sales s ON s.day = g.day::date
			 GROUP BY g.day ORDER BY g.day`, companyID, currency, from, to)
		if err != nil {
			return err
		}
		rep.Days, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RevenueDay, error) {
			var d RevenueDay
			err := r.Scan(append([]any{&d.Day}, scanFigures(&d.RevenueFigures)...)...)
			d.Day = d.Day.UTC()
			return d, err
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, sales+`
			SELECT s.package_id, `+figures+` FROM sales s
			 GROUP BY s.package_id ORDER BY sum(s.paid_amount) DESC, s.package_id`, companyID, currency, from, to)
		if err != nil {
			return err
		}
		rep.Packages, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (PackageRevenue, error) {
			var p PackageRevenue
			err := r.Scan(append([]any{&p.PackageID}, scanFigures(&p.RevenueFigures)...)...)
			return p, err
		})
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, sales+`SELECT `+figures+` FROM sales s`, companyID, currency, from, to).
			Scan(scanFigures(&rep.Totals)...)
	})
	if err != nil {
		return rep, fmt.Errorf("ledger: revenue report: %w", err)
	}
	return rep, nil
}

// SaleRow is a purchase as the creator's dashboard lists it: with the
// newest payment the app refused that charged its buyer, when no payment
// paid it (refusedPayment).
type SaleRow struct {
	Purchase
	RefusedPaymentID string // "" when none
	ChargedBack      int64  // as Receipt.ChargedBack
}

// Receipt is the sale as its badge reads it.
func (s SaleRow) Receipt() Receipt {
	r := s.Purchase.Receipt()
	r.Refused = s.RefusedPaymentID != ""
	r.ChargedBack = s.ChargedBack
	return r
}

// CompanyPurchases returns the purchases made in a company's experiences
// (every company's when companyID is ""), newest first, whatever their
// status.
func (s *Store) CompanyPurchases(ctx context.Context, companyID string, limit int) ([]SaleRow, error) {
	cols := `COALESCE(` + refusedPayment + `, ''), ` + chargedBack + `, ` + purchaseColumns
	q := `SELECT ` + cols + ` FROM purchases WHERE company_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`
	if companyID == "" {
		q = `SELECT ` + cols + ` FROM purchases WHERE $1::text = '' ORDER BY created_at DESC, id DESC LIMIT $2`
	}
	return queryAll(ctx, s.pool, "company purchases", func(r pgx.CollectableRow) (SaleRow, error) {
		var row SaleRow
		err := scanPurchaseAfter(r, &row.Purchase, &row.RefusedPaymentID, &row.ChargedBack)
		return row, err
	}, q, companyID, limit)
}

// PurchaseByCheckout returns the purchase a checkout configuration was made for.
func (s *Store) PurchaseByCheckout(ctx context.Context, checkoutID string) (Purchase, error) {
	p, err := scanPurchase(s.pool.QueryRow(ctx, `SELECT `+purchaseColumns+` FROM purchases WHERE checkout_id = $1`, checkoutID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: purchase by checkout: %w", err)
	}
	return p, err
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
