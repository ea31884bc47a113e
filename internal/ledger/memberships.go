package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Membership is a premium membership as the app last learned it.
type Membership struct {
	ID        string
	UserID    string
	ProductID string
	PlanID    string
	// ExperienceID and ExperienceCompanyID attribute the membership to the
	// experience its checkout was made in; empty when it names none.
	ExperienceID        string
	ExperienceCompanyID string
	Status              string
	Valid               bool
	// PeriodStart and PeriodEnd are the billing period; zero without one.
	PeriodStart, PeriodEnd time.Time
	WhopCreatedAt          time.Time // zero when unknown
	// LastEventAt is the seller's time of the state recorded. A state with an
	// older time is never recorded over a newer one.
	LastEventAt time.Time
	// CreatedAt is when the app first saw the membership; UpdatedAt when its
	// recorded state last changed, on the database's clock.
	CreatedAt, UpdatedAt time.Time
}

// ErrAmbiguousOrder means a membership state carries the same time as the
// one recorded but says something else: which came last cannot be told, so
// nothing was written and the caller should ask the source again.
var ErrAmbiguousOrder = errors.New("ledger: membership state is as old as the recorded one but differs")

// MembershipResult is what recording a membership state changed.
type MembershipResult struct {
	Membership Membership // as recorded afterwards
	Changed    bool       // the state was new and is now the recorded one
	Stale      bool       // an older state than the recorded one: kept out
	Granted    int64      // credits granted now (0 if this period's were granted before)
	Balance    int64      // the granted wallet's balance, when credits were granted
}

const membershipColumns = `id, user_id, product_id, plan_id, COALESCE(experience_id, ''),
	COALESCE(experience_company_id, ''), status, valid, period_start, period_end, whop_created_at,
	last_event_at, created_at, updated_at`

func scanMembership(row pgx.Row) (Membership, error) {
	var m Membership
	var start, end, created *time.Time
	err := row.Scan(&m.ID, &m.UserID, &m.ProductID, &m.PlanID, &m.ExperienceID, &m.ExperienceCompanyID,
		&m.Status, &m.Valid, &start, &end, &created, &m.LastEventAt, &m.CreatedAt, &m.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, ErrNotFound
	}
	m.PeriodStart, m.PeriodEnd, m.WhopCreatedAt = deref(start), deref(end), deref(created)
	return m, err
}

// RecordMembership records a membership state unless a newer one is
// recorded already, and grants the period's credits when g asks, all in one
// transaction with the delivery. States are ordered by LastEventAt; at equal
// times a differing state is ErrAmbiguousOrder unless authoritative (read
// from the source just now), which then wins. The grant does not depend on
// the state winning: a period the membership was valid in earns its credits
// once, whichever order the deliveries came in.
func (s *Store) RecordMembership(ctx context.Context, m Membership, authoritative bool, g *PeriodGrant, d *Delivery) (MembershipResult, error) {
	var res MembershipResult
	err := s.withDelivery(ctx, d, func(tx pgx.Tx) (outcome string, err error) {
		res, outcome, err = recordMembershipTx(ctx, tx, m, authoritative, g, d)
		return outcome, err
	})
	if err != nil {
		return res, fmt.Errorf("ledger: record membership %s: %w", m.ID, err)
	}
	return res, nil
}

// recordMembershipTx is RecordMembership inside the caller's transaction,
// which it leaves holding the membership's row lock.
func recordMembershipTx(ctx context.Context, tx pgx.Tx, m Membership, authoritative bool, g *PeriodGrant, d *Delivery) (MembershipResult, string, error) {
	m.LastEventAt = m.LastEventAt.Truncate(time.Microsecond) // Postgres keeps microseconds
	res, err := recordMembership(ctx, tx, m, authoritative)
	if err != nil {
		return res, "", err
	}
	outcome := fmt.Sprintf("membership %s %s", m.ID, res.Membership.Status)
	switch {
	case res.Stale:
		outcome += " (an older state arrived late: kept out)"
	case !res.Changed:
		outcome += " (already recorded)"
	}
	if g != nil {
		deliveryID := ""
		if d != nil {
			deliveryID = d.ID
		}
		if res.Granted, res.Balance, err = grantPeriod(ctx, tx, res.Membership, *g, deliveryID); err != nil {
			return res, "", err
		}
		if res.Granted > 0 {
			outcome += fmt.Sprintf("; granted %d credits", res.Granted)
		}
	}
	return res, outcome, nil
}

func recordMembership(ctx context.Context, tx pgx.Tx, m Membership, authoritative bool) (MembershipResult, error) {
	args := []any{m.ID, m.UserID, m.ProductID, m.PlanID, nullIfEmpty(m.ExperienceID), nullIfEmpty(m.ExperienceCompanyID),
		m.Status, m.Valid, nullIfZero(m.PeriodStart), nullIfZero(m.PeriodEnd), nullIfZero(m.WhopCreatedAt), m.LastEventAt}
	inserted, err := scanMembership(tx.QueryRow(ctx, `
		INSERT INTO memberships (id, user_id, product_id, plan_id, experience_id, experience_company_id,
		                         status, valid, period_start, period_end, whop_created_at, last_event_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO NOTHING
		RETURNING `+membershipColumns, args...))
	if err == nil {
		return MembershipResult{Membership: inserted, Changed: true}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return MembershipResult{}, fmt.Errorf("insert membership: %w", err)
	}
	// Known already: lock it, so concurrent deliveries for one membership
	// compare and write one after the other.
	cur, err := scanMembership(tx.QueryRow(ctx, `SELECT `+membershipColumns+` FROM memberships WHERE id = $1 FOR UPDATE`, m.ID))
	if err != nil {
		return MembershipResult{}, fmt.Errorf("lock membership: %w", err)
	}
	switch {
	case m.LastEventAt.Before(cur.LastEventAt):
		return MembershipResult{Membership: cur, Stale: true}, nil
	case m.LastEventAt.Equal(cur.LastEventAt) && sameState(m, cur):
		return MembershipResult{Membership: cur}, nil
	case m.LastEventAt.Equal(cur.LastEventAt) && !authoritative:
		return MembershipResult{}, ErrAmbiguousOrder
	}
	// A later state names the experience only if its checkout did; keep
	// the attribution once known.
	updated, err := scanMembership(tx.QueryRow(ctx, `
		UPDATE memberships SET user_id = $2, product_id = $3, plan_id = $4,
		       experience_id = COALESCE($5, experience_id),
		       experience_company_id = COALESCE($6, experience_company_id),
		       status = $7, valid = $8, period_start = $9, period_end = $10,
		       whop_created_at = COALESCE($11, whop_created_at), last_event_at = $12, updated_at = now()
		 WHERE id = $1
		RETURNING `+membershipColumns, args...))
	if err != nil {
		return MembershipResult{}, fmt.Errorf("update membership: %w", err)
	}
	return MembershipResult{Membership: updated, Changed: true}, nil
}

// sameState compares what access and grants depend on.
func sameState(a, b Membership) bool {
	return a.Status == b.Status && a.Valid == b.Valid && a.PlanID == b.PlanID &&
		a.PeriodStart.Equal(b.PeriodStart) && a.PeriodEnd.Equal(b.PeriodEnd)
}

// Membership returns a recorded membership.
func (s *Store) Membership(ctx context.Context, id string) (Membership, error) {
	m, err := scanMembership(s.pool.QueryRow(ctx, `SELECT `+membershipColumns+` FROM memberships WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: membership: %w", err)
	}
	return m, err
}

// ValidMembership returns the user's valid membership of a product as seen
// from an experience, or ErrNotFound: of several, one bought in that
// experience first, then one bought in any, then one that names none; the
// one whose period ends last among equals. (A membership's credits go to
// the experience it was bought in, which is what the page says.)
func (s *Store) ValidMembership(ctx context.Context, userID, productID, experienceID string) (Membership, error) {
	m, err := scanMembership(s.pool.QueryRow(ctx, `SELECT `+membershipColumns+` FROM memberships
		WHERE user_id = $1 AND product_id = $2 AND valid
		ORDER BY experience_id IS NOT DISTINCT FROM $3 DESC, experience_id IS NOT NULL DESC,
		         period_end DESC NULLS LAST, last_event_at DESC LIMIT 1`, userID, productID, experienceID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: valid membership: %w", err)
	}
	return m, err
}

// CompanyMemberships returns up to limit valid memberships of a product
// attributed to the experiences of a company, or with companyID "" of
// every valid one of the product (those attributed to no experience last),
// by experience, then oldest first.
func (s *Store) CompanyMemberships(ctx context.Context, companyID, productID string, limit int) ([]Membership, error) {
	return queryAll(ctx, s.pool, "company memberships", func(r pgx.CollectableRow) (Membership, error) { return scanMembership(r) },
		`SELECT `+membershipColumns+` FROM memberships
		WHERE ($1 = '' OR experience_company_id = $1) AND product_id = $2 AND valid
		ORDER BY experience_id NULLS LAST, COALESCE(whop_created_at, created_at), id
		LIMIT $3`, companyID, productID, limit)
}

// MembershipClock returns the database's time now and when the user's
// recorded memberships last changed (zero if never), in one indexed read.
// Both come from the database's clock, so replicas compare them safely.
func (s *Store) MembershipClock(ctx context.Context, userID string) (now, changed time.Time, err error) {
	var last *time.Time
	err = s.pool.QueryRow(ctx, `SELECT now(), (SELECT updated_at FROM memberships WHERE user_id = $1
		ORDER BY updated_at DESC LIMIT 1)`, userID).Scan(&now, &last)
	if err != nil {
		return now, changed, fmt.Errorf("ledger: membership clock: %w", err)
	}
	return now, deref(last), nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func nullIfZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
