package ledger

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Expected outcomes callers decide on with errors.Is / errors.As.
var (
	// ErrNotFound means the row asked for does not exist (or is not the caller's).
	ErrNotFound = errors.New("ledger: not found")
	// ErrDuplicateDelivery means the webhook delivery was already processed;
	// nothing was written.
	ErrDuplicateDelivery = errors.New("ledger: delivery already processed")
	// ErrIdempotencyConflict means an idempotency key was reused for a
	// different request.
	ErrIdempotencyConflict = errors.New("ledger: idempotency key reused with a different request")
	// ErrUnknownItem means no spend item has that id.
	ErrUnknownItem = errors.New("ledger: unknown item")
	// ErrPaidByOtherPayment means the purchase was already fulfilled by a
	// different payment; the second payment is not credited.
	ErrPaidByOtherPayment = errors.New("ledger: purchase already paid by another payment")
	// ErrPaymentMismatch means a settlement's payment does not match its
	// purchase (Settlement.Match); nothing was written.
	ErrPaymentMismatch = errors.New("ledger: payment does not match the purchase")
)

// InsufficientCreditsError is returned when a debit would overdraw a wallet,
// or the wallet is already negative. It carries the balance to show.
type InsufficientCreditsError struct {
	// Balance is what the wallet can spend: its balance less the credits
	// of grants past their expiry that their job has not taken out yet.
	Balance int64
	Cost    int64
}

func (e *InsufficientCreditsError) Error() string {
	return fmt.Sprintf("ledger: insufficient credits: balance %d, cost %d", e.Balance, e.Cost)
}

// ErrInsufficientCredits matches any *InsufficientCreditsError with errors.Is.
var ErrInsufficientCredits = errors.New("ledger: insufficient credits")

// Is lets errors.Is(err, ErrInsufficientCredits) match.
func (e *InsufficientCreditsError) Is(target error) bool { return target == ErrInsufficientCredits }

func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

func isCheckViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514" && pe.ConstraintName == constraint
}

// IsDataError reports Postgres refusing the data itself: a value that breaks
// a check, not-null or foreign-key constraint, or that is no valid text or
// number (SQLSTATE classes 22 and 23, except unique violations, which a
// concurrent writer can cause and a retry resolves). Writing the same data
// again fails the same way, so a caller may treat it as final, unlike a lost
// connection or a deadlock.
func IsDataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) != 5 {
		return false
	}
	switch pe.Code[:2] {
	case "22":
		return true
	case "23":
		return pe.Code != "23505"
	}
	return false
}
