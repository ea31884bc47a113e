package billing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// Limits on a grant.
const (
	// MaxGrantCredits bounds one grant, so a slip of the keyboard cannot
	// mint a fortune.
	MaxGrantCredits = 10_000_000
	// MaxGrantReason is the longest reason, in characters.
	MaxGrantReason = 200
	// MaxGrantTerm is how far ahead a grant may expire.
	MaxGrantTerm = 10 * 366 * 24 * time.Hour
	// MinGrantLead is how soon a grant may expire at the earliest: its
	// expiry is judged on the app's clock before Whop is asked, and the
	// database, on its own clock, refuses a grant born expired.
	MinGrantLead = time.Minute
)

// GrantPrefix starts every grant id.
const GrantPrefix = "grt_"

// Grant refusals the edge maps to responses.
var (
	// ErrUnknownMember means Whop knows no user by that username or id.
	ErrUnknownMember = errors.New("billing: no Whop user with that username or id")
	// ErrNotAMember means the user has no access to the experience, so is
	// not one of its members.
	ErrNotAMember = errors.New("billing: the user is not a member of that experience")
	// ErrNotYourExperience means the experience belongs to another company
	// than the one the admin acts for (only the app owner's admins may
	// grant anywhere).
	ErrNotYourExperience = errors.New("billing: the experience belongs to another company")
)

// GrantRequest asks to give a member credits, as the admin typed it.
type GrantRequest struct {
	UserID       string // the admin asking
	CompanyID    string // the company they act for: their dashboard's
	ExperienceID string
	Member       string // a username (with or without "@") or a user id
	Credits      string // a whole number
	Reason       string
	// ExpiresAt is empty for credits that never expire, a date
	// (2026-03-31: usable through that day, UTC) or an RFC 3339 time.
	ExpiresAt string
	// IdempotencyKey makes a retried request return the first grant
	// instead of granting twice; it is the admin's own.
	IdempotencyKey string
}

// GrantResult is the grant as recorded.
type GrantResult struct {
	Grant    ledger.CreditGrant
	Replayed bool // the key was used before; nothing was granted now
}

// GrantCredits gives a member of one of the company's experiences credits,
// with a reason and perhaps an expiry, once per idempotency key. The
// company's admins may grant in the company's own experiences; the app
// owner's admins in any. Everything is checked first (what was typed,
// then the admin, then the key: a retry gets the first grant back even
// when its expiry has passed since; then, for a new grant, the expiry
// against the clock, and with Whop: whose experience it is, who the member
// is, that they have access to it), with no transaction open; then one
// transaction records the grant, its ledger entry and its expiry job.
func (s Grants) GrantCredits(ctx context.Context, r GrantRequest) (GrantResult, error) {
	n, member, err := s.checkGrant(r)
	if err != nil {
		return GrantResult{}, err
	}
	if err := s.companyAdmin(ctx, r.UserID, r.CompanyID); err != nil {
		return GrantResult{}, err
	}
	if prev, err := s.store.GrantByKey(ctx, r.UserID, n.IdempotencyKey); err == nil {
		return replayGrant(prev, n, member)
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return GrantResult{}, err
	}
	// Only a new grant is held to the clock: a retry of one made before
	// gets its answer even when the expiry has passed since.
	if err := s.grantTerm(n.ExpiresAt); err != nil {
		return GrantResult{}, err
	}
	exp, err := s.whop.GetExperience(ctx, n.ExperienceID)
	if errors.Is(err, whop.ErrNotFound) {
		return GrantResult{}, ErrUnknownExperience
	}
	if err != nil {
		return GrantResult{}, fmt.Errorf("billing: grant experience: %w", err)
	}
	if exp.CompanyID == "" || (r.CompanyID != s.cfg.CompanyID && exp.CompanyID != r.CompanyID) {
		return GrantResult{}, ErrNotYourExperience
	}
	user, err := s.whop.GetUser(ctx, member)
	if errors.Is(err, whop.ErrNotFound) || errors.Is(err, whop.ErrInvalidArgument) || (err == nil && !whop.ValidID(user.ID, whop.PrefixUser)) {
		return GrantResult{}, ErrUnknownMember
	}
	if err != nil {
		return GrantResult{}, fmt.Errorf("billing: grant member: %w", err)
	}
	if err := s.experienceAccess(ctx, user.ID, n.ExperienceID); errors.Is(err, ErrNoAccess) {
		return GrantResult{}, ErrNotAMember
	} else if err != nil {
		return GrantResult{}, err
	}
	n.ID, n.UserID, n.Username, n.CompanyID = newID(GrantPrefix), user.ID, user.Username, exp.CompanyID
	g, created, err := s.store.GrantCredits(ctx, n)
	if errors.Is(err, ledger.ErrGrantBornExpired) { // the lead did not cover Whop's calls, or the clocks differ
		return GrantResult{}, errExpiresTooSoon()
	}
	if err != nil {
		return GrantResult{}, err
	}
	if !created { // a concurrent request with the same key recorded first
		return replayGrant(g, n, member)
	}
	s.log.InfoContext(ctx, "credits granted", "grant_id", g.ID, "experience_id", g.ExperienceID, "user_id", g.UserID,
		"credits", g.Credits, "expires_at", g.ExpiresAt, "granted_by", g.GrantedBy)
	return GrantResult{Grant: g}, nil
}

// checkGrant reads what the admin typed, without calling anyone or
// reading the clock (grantTerm does, once the key is known to be new). It
// returns the grant to record (ids and the member's still to find) and the
// member as typed, without "@".
func (s *core) checkGrant(r GrantRequest) (ledger.NewCreditGrant, string, error) {
	n := ledger.NewCreditGrant{ExperienceID: strings.TrimSpace(r.ExperienceID), Reason: strings.TrimSpace(r.Reason),
		GrantedBy: r.UserID, GrantedByCompany: r.CompanyID, IdempotencyKey: r.IdempotencyKey}
	member := strings.TrimPrefix(strings.TrimSpace(r.Member), "@")
	credits, err := strconv.ParseInt(strings.TrimSpace(r.Credits), 10, 64)
	switch {
	case n.IdempotencyKey == "" || len(n.IdempotencyKey) > 255:
		return n, "", &FieldError{Field: "idempotency_key", Message: "An idempotency key of 1 to 255 characters is required."}
	case !whop.ValidID(n.ExperienceID, whop.PrefixExperience):
		return n, "", &FieldError{Field: "experience_id", Message: "Enter the experience's id (exp_…)."}
	case member == "" || len(member) > 100:
		return n, "", &FieldError{Field: "member", Message: "Enter the member's Whop username or user id."}
	case err != nil || credits <= 0 || credits > MaxGrantCredits:
		return n, "", &FieldError{Field: "credits", Message: fmt.Sprintf("Enter a whole number of credits from 1 to %d.", MaxGrantCredits)}
	case n.Reason == "" || utf8.RuneCountInString(n.Reason) > MaxGrantReason:
		return n, "", &FieldError{Field: "reason", Message: fmt.Sprintf("Give a reason of 1 to %d characters: the member sees it.", MaxGrantReason)}
	}
	n.Credits = credits
	if n.ExpiresAt, err = grantExpiry(r.ExpiresAt); err != nil {
		return n, "", err
	}
	return n, member, nil
}

// grantExpiry reads an expiry: a date means through that day (UTC), so the
// credits leave at the next midnight UTC; a time is taken as it is.
func grantExpiry(text string) (time.Time, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return time.Time{}, nil
	}
	at, err := time.Parse(time.DateOnly, text)
	if err == nil {
		at = at.AddDate(0, 0, 1)
	} else if at, err = time.Parse(time.RFC3339, text); err != nil {
		return time.Time{}, &FieldError{Field: "expires_at", Message: "Give the expiry as a date (2026-03-31) or a time (2026-03-31T18:00:00Z), or leave it empty for credits that never expire."}
	}
	return at.UTC().Truncate(time.Microsecond), nil // Postgres keeps microseconds
}

// grantTerm holds a new grant's expiry (zero: never) to the clock: at
// least MinGrantLead ahead and within MaxGrantTerm.
func (s *core) grantTerm(at time.Time) error {
	if at.IsZero() {
		return nil
	}
	now := s.now()
	switch {
	case at.Sub(now) < MinGrantLead:
		return errExpiresTooSoon()
	case at.Sub(now) > MaxGrantTerm:
		return &FieldError{Field: "expires_at", Message: "The expiry must be within ten years."}
	}
	return nil
}

// errExpiresTooSoon refuses an expiry less than MinGrantLead away.
func errExpiresTooSoon() error {
	return &FieldError{Field: "expires_at", Message: "The expiry must be at least a minute from now."}
}

// replayGrant answers a request whose key was used before: with the first
// grant when it asked for the same, else a conflict.
func replayGrant(prev ledger.CreditGrant, n ledger.NewCreditGrant, member string) (GrantResult, error) {
	sameMember := member == prev.UserID || (prev.Username != "" && strings.EqualFold(member, prev.Username))
	if !sameMember || prev.ExperienceID != n.ExperienceID || prev.Credits != n.Credits || prev.Reason != n.Reason ||
		!prev.ExpiresAt.Equal(n.ExpiresAt) {
		return GrantResult{}, ledger.ErrIdempotencyConflict
	}
	return GrantResult{Grant: prev, Replayed: true}, nil
}
