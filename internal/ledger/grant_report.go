package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// GrantFigures are a company's granted credits over a window of whole UTC
// days, kept apart from the credits it sold. Grants are counted on the day
// they were made and expiries on the day they took credits out, as the
// company's export lists them, so the two add up the same.
type GrantFigures struct {
	Grants   int64 // grants made in the window
	Granted  int64 // their credits
	Spent    int64 // of those credits, spent by now
	Expiries int64 // expiries in the window that took credits out
	Expired  int64 // the credits they took
	// Outstanding is what the company's unexpired grants hold now,
	// whenever they were made: granted credits members may still spend.
	Outstanding int64
}

// grantScope picks the grants of one company ($1), or of every company
// when $1 is "" (the app owner's view).
func grantScope(companyID string) string {
	if companyID == "" {
		return `$1::text = ''`
	}
	return `g.company_id = $1`
}

// GrantReport sums a company's grants for the UTC days from..to
// (inclusive); companyID "" is the whole app.
func (s *Store) GrantReport(ctx context.Context, companyID string, from, to time.Time) (GrantFigures, error) {
	var f GrantFigures
	from, to = utcDay(from), utcDay(to)
	scope := grantScope(companyID)
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE g.created_at >= $2::date::timestamp AT TIME ZONE 'UTC'
		                          AND g.created_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'),
		       COALESCE(sum(g.credits) FILTER (WHERE g.created_at >= $2::date::timestamp AT TIME ZONE 'UTC'
		                          AND g.created_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'), 0)::bigint,
		       COALESCE(sum(g.spent) FILTER (WHERE g.created_at >= $2::date::timestamp AT TIME ZONE 'UTC'
		                          AND g.created_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'), 0)::bigint,
		       count(*) FILTER (WHERE g.expired > 0 AND g.expired_at >= $2::date::timestamp AT TIME ZONE 'UTC'
		                          AND g.expired_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'),
		       COALESCE(sum(g.expired) FILTER (WHERE g.expired_at >= $2::date::timestamp AT TIME ZONE 'UTC'
		                          AND g.expired_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'), 0)::bigint,
		       COALESCE(sum(g.credits - g.spent) FILTER (WHERE g.expired_at IS NULL), 0)::bigint
		  FROM credit_grants g WHERE `+scope, companyID, from, to).
		Scan(&f.Grants, &f.Granted, &f.Spent, &f.Expiries, &f.Expired, &f.Outstanding)
	if err != nil {
		return f, fmt.Errorf("ledger: grant report: %w", err)
	}
	return f, nil
}

// CompanyGrants returns the grants made in a company's experiences (every
// company's when companyID is ""), newest first.
func (s *Store) CompanyGrants(ctx context.Context, companyID string, limit int) ([]CreditGrant, error) {
	return queryAll(ctx, s.pool, "company grants", func(r pgx.CollectableRow) (CreditGrant, error) { return scanCreditGrant(r) },
		`SELECT `+creditGrantColumns+` FROM credit_grants g
		WHERE `+grantScope(companyID)+` ORDER BY created_at DESC, id DESC LIMIT $2`, companyID, limit)
}

// CompanyExperiences lists the experiences of a company the app has seen
// lately (where its newest thousand purchases or grants were made), every
// company's when companyID is "", most recently active first: what the
// grant form suggests. The form takes any experience id; Whop decides
// whose it is.
func (s *Store) CompanyExperiences(ctx context.Context, companyID string, limit int) ([]string, error) {
	scope := `company_id = $1`
	if companyID == "" {
		scope = `$1::text = ''`
	}
	return queryAll(ctx, s.pool, "company experiences", pgx.RowTo[string],
		`
		SELECT experience_id FROM (
			(SELECT experience_id, created_at FROM purchases WHERE `+scope+` ORDER BY created_at DESC LIMIT 1000)
			UNION ALL
			(SELECT experience_id, created_at FROM credit_grants WHERE `+scope+` ORDER BY created_at DESC LIMIT 1000)) seen
		 GROUP BY experience_id ORDER BY max(created_at) DESC, experience_id LIMIT $2`, companyID, limit)
}
