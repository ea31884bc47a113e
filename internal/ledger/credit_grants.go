package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// KindExpiry is the ledger entry that takes a grant's unspent credits out of
// the wallet when the grant expires.
const KindExpiry EntryKind = "expiry"

// Granted credits. A grant is one row of credit_grants (the migration
// 000010 explains the model) written in the transaction of its 'grant'
// entry; spends use the grants that expire soonest first (the database
// applies that order to every spend entry), and a grant's expiry job takes
// exactly what nobody spent, once. A refund takes back only its purchase's
// credits, never a grant's: see the migration for why no credit can leave
// twice. The grant's row is also where its facts live for whoever else
// needs them (the dashboards, reminders before expiry): its credits, its
// expiry, what was spent and what expired.

// CreditGrant is credits an admin gave a member in an experience.
type CreditGrant struct {
	ID           string
	ExperienceID string
	UserID       string
	Username     string // the member's Whop username when granted ("" if unknown)
	CompanyID    string // the experience's company
	Credits      int64
	Spent        int64 // used by spends so far
	Expired      int64 // taken out at expiry (0 until then)
	Reason       string
	ExpiresAt    time.Time // zero: never expires
	// GrantedBy is the admin, of GrantedByCompany (the experience's company
	// or the app owner's).
	GrantedBy        string
	GrantedByCompany string
	IdempotencyKey   string
	LedgerEntryID    int64
	ExpiryEntryID    int64 // 0 unless the expiry took something
	CreatedAt        time.Time
	ExpiredAt        time.Time // zero until the expiry job ran
}

// Left is what of the grant is still in the wallet: neither spent nor expired.
func (g CreditGrant) Left() int64 { return g.Credits - g.Spent - g.Expired }

// NewCreditGrant asks for credits to be granted.
type NewCreditGrant struct {
	ID, ExperienceID, UserID, Username, CompanyID string
	Credits                                       int64
	Reason                                        string
	ExpiresAt                                     time.Time // zero: never
	GrantedBy, GrantedByCompany                   string
	// IdempotencyKey is unique per granting admin: the same key gives the
	// first grant back instead of a second one.
	IdempotencyKey string
}

// GrantNotDueError means a grant's expiry was asked for before its time;
// Due says when it is.
type GrantNotDueError struct{ Due time.Time }

func (e *GrantNotDueError) Error() string {
	return "ledger: grant expires at " + e.Due.UTC().Format(time.RFC3339) + ", not yet"
}

const creditGrantColumns = `id, experience_id, user_id, username, company_id, credits, spent, COALESCE(expired, 0),
	reason, expires_at, granted_by, granted_by_company, idempotency_key, ledger_entry_id, expiry_entry_id,
	created_at, expired_at`

func scanCreditGrant(row pgx.Row) (CreditGrant, error) {
	var g CreditGrant
	var expires, expiredAt *time.Time
	var expiryEntry *int64
	err := row.Scan(&g.ID, &g.ExperienceID, &g.UserID, &g.Username, &g.CompanyID, &g.Credits, &g.Spent, &g.Expired,
		&g.Reason, &expires, &g.GrantedBy, &g.GrantedByCompany, &g.IdempotencyKey, &g.LedgerEntryID, &expiryEntry,
		&g.CreatedAt, &expiredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, ErrNotFound
	}
	g.ExpiresAt, g.ExpiredAt = deref(expires), deref(expiredAt)
	if expiryEntry != nil {
		g.ExpiryEntryID = *expiryEntry
	}
	return g, err
}

// ErrGrantBornExpired means a grant's expiry had passed, on the database's
// clock, when it was to be recorded; nothing was written.
var ErrGrantBornExpired = errors.New("ledger: the grant's expiry has passed")

// errKeyTaken rolls a grant's transaction back when its key was used first
// by another request; the caller then answers with that one.
var errKeyTaken = errors.New("idempotency key taken")

// GrantCredits records a grant: its ledger entry, its row and, when it
// expires, its expiry job, in one transaction. When the admin already used
// the key, nothing is written and the earlier grant is returned with
// created false, for the caller to compare.
func (s *Store) GrantCredits(ctx context.Context, n NewCreditGrant) (g CreditGrant, created bool, err error) {
	if n.Credits <= 0 || n.Reason == "" || n.IdempotencyKey == "" {
		return g, false, fmt.Errorf("ledger: grant: credits, a reason and a key are required")
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		walletID, entryID, _, err := appendEntry(ctx, tx, n.ExperienceID, n.UserID, KindGrant, n.Credits, n.ID, "credit_grant:"+n.ID)
		if err != nil {
			return err
		}
		g, err = scanCreditGrant(tx.QueryRow(ctx, `
			INSERT INTO credit_grants (id, wallet_id, experience_id, user_id, username, company_id, credits, reason,
			                           expires_at, granted_by, granted_by_company, idempotency_key, ledger_entry_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (granted_by, idempotency_key) DO NOTHING
			RETURNING `+creditGrantColumns,
			n.ID, walletID, n.ExperienceID, n.UserID, n.Username, n.CompanyID, n.Credits, n.Reason,
			nullIfZero(n.ExpiresAt), n.GrantedBy, n.GrantedByCompany, n.IdempotencyKey, entryID))
		if errors.Is(err, ErrNotFound) {
			return errKeyTaken
		}
		if isCheckViolation(err, "credit_grants_check") { // CHECK (expires_at > created_at)
			return ErrGrantBornExpired
		}
		if err != nil {
			return fmt.Errorf("record grant: %w", err)
		}
		// The expiry's job exists exactly when the grant does. (Jobs that
		// tell the member about the grant belong here too.)
		if !g.ExpiresAt.IsZero() {
			return s.enqueue(ctx, tx, GrantExpiryJob{GrantID: g.ID}, g.ExpiresAt)
		}
		return nil
	})
	switch {
	case err == nil:
		return g, true, nil
	case errors.Is(err, errKeyTaken):
		g, err = s.GrantByKey(ctx, n.GrantedBy, n.IdempotencyKey)
		return g, false, err
	case errors.Is(err, ErrGrantBornExpired):
		return g, false, err
	}
	return g, false, fmt.Errorf("ledger: grant: %w", err)
}

// GrantByKey finds the grant an admin made with an idempotency key.
func (s *Store) GrantByKey(ctx context.Context, grantedBy, key string) (CreditGrant, error) {
	g, err := scanCreditGrant(s.pool.QueryRow(ctx, `SELECT `+creditGrantColumns+` FROM credit_grants
		WHERE granted_by = $1 AND idempotency_key = $2`, grantedBy, key))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: grant by key: %w", err)
	}
	return g, err
}

// CreditGrant returns a grant by id.
func (s *Store) CreditGrant(ctx context.Context, id string) (CreditGrant, error) {
	g, err := scanCreditGrant(s.pool.QueryRow(ctx, `SELECT `+creditGrantColumns+` FROM credit_grants WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: grant: %w", err)
	}
	return g, err
}

// Expiry is what expiring a grant did.
type Expiry struct {
	Grant CreditGrant
	// Taken is the credits taken out now; 0 when nothing was left or the
	// grant had expired before (Already).
	Taken   int64
	Balance int64 // the wallet's balance afterwards
	Already bool
}

// ExpireGrant takes a grant's unspent credits out of its wallet, once, with
// an 'expiry' entry, and marks the grant expired. Before the grant's time
// (the database's clock) it is *GrantNotDueError and changes nothing; a
// grant expired before is returned as it is (Already).
//
// The wallet's row is locked before the grant's, in the order a spend takes
// them, so an expiry and a spend of the same credits serialize: whichever
// commits first, the other sees it, and the grant's counters stay exact.
func (s *Store) ExpireGrant(ctx context.Context, id string) (Expiry, error) {
	var x Expiry
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM wallets WHERE id = (SELECT wallet_id FROM credit_grants WHERE id = $1)
			FOR UPDATE`, id); err != nil {
			return err
		}
		g, err := scanCreditGrant(tx.QueryRow(ctx, `SELECT `+creditGrantColumns+` FROM credit_grants WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		switch {
		case g.ExpiresAt.IsZero():
			return fmt.Errorf("grant %s never expires", id)
		case !g.ExpiredAt.IsZero():
			x.Grant, x.Already = g, true
			return tx.QueryRow(ctx, `SELECT balance FROM wallets WHERE experience_id = $1 AND user_id = $2`,
				g.ExperienceID, g.UserID).Scan(&x.Balance)
		}
		// The database's clock decides, as it does for the spends that stop
		// counting the grant at that moment.
		var due bool
		if err := tx.QueryRow(ctx, `SELECT $1::timestamptz <= now()`, g.ExpiresAt).Scan(&due); err != nil {
			return err
		}
		if !due {
			return &GrantNotDueError{Due: g.ExpiresAt}
		}
		left := g.Credits - g.Spent
		var entryID *int64
		if left > 0 {
			_, e, bal, err := appendEntry(ctx, tx, g.ExperienceID, g.UserID, KindExpiry, -left, g.ID, "grant_expiry:"+g.ID)
			if err != nil {
				return err
			}
			entryID, x.Taken, x.Balance = &e, left, bal
		} else if err := tx.QueryRow(ctx, `SELECT balance FROM wallets WHERE id = (SELECT wallet_id FROM credit_grants WHERE id = $1)`,
			id).Scan(&x.Balance); err != nil {
			return err
		}
		x.Grant, err = scanCreditGrant(tx.QueryRow(ctx, `
			UPDATE credit_grants SET expired = $2, expired_at = now(), expiry_entry_id = $3
			 WHERE id = $1 RETURNING `+creditGrantColumns, id, left, entryID))
		return err
	})
	if err != nil {
		var notDue *GrantNotDueError
		if errors.As(err, &notDue) || errors.Is(err, ErrNotFound) {
			return x, err
		}
		return x, fmt.Errorf("ledger: expire grant %s: %w", id, err)
	}
	return x, nil
}

// appendEntry is move for callers that need the entry itself: it changes
// the wallet's balance by amount (creating the wallet on first use) and
// appends the matching entry, returning the wallet, the entry and the
// balance after it.
func appendEntry(ctx context.Context, tx pgx.Tx, experienceID, userID string, kind EntryKind, amount int64, reference, key string) (walletID, entryID, balance int64, err error) {
	err = tx.QueryRow(ctx, `
		INSERT INTO wallets (experience_id, user_id, balance) VALUES ($1, $2, $3)
		ON CONFLICT (experience_id, user_id)
		DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = now()
		RETURNING id, balance`, experienceID, userID, amount).Scan(&walletID, &balance)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("move credits: %w", err)
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, walletID, kind, amount, balance, reference, key).Scan(&entryID)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("append ledger entry: %w", err)
	}
	return walletID, entryID, balance, nil
}

// GrantMismatch is a grant whose spent counter is not the sum of the spends
// recorded against it.
type GrantMismatch struct {
	GrantID       string
	Spent, Summed int64
}

// CheckGrants compares every grant's spent counter with the spends that
// used it. The spend trigger keeps them equal; like CheckBalances, this is
// for tests and operators to see that it does. (spent + expired <= credits
// is a CHECK of the table itself.)
func (s *Store) CheckGrants(ctx context.Context) ([]GrantMismatch, error) {
	return queryAll(ctx, s.pool, "check grants", pgx.RowToStructByPos[GrantMismatch],
		`
		SELECT g.id, g.spent, COALESCE(sum(gs.amount), 0)::bigint
		  FROM credit_grants g LEFT JOIN grant_spends gs ON gs.grant_id = g.id
		 GROUP BY g.id HAVING g.spent <> COALESCE(sum(gs.amount), 0)`)
}
