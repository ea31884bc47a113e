package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// MaxPayoutNotes is Whop's limit on a transfer's notes.
const MaxPayoutNotes = 50

// ErrUnknownRecipient means Whop knows no user by that username or id.
var ErrUnknownRecipient = errors.New("billing: no Whop user with that username or id")

// PayoutRequest asks to send money from the company's Whop balance to a user.
type PayoutRequest struct {
	UserID    string // the admin asking
	CompanyID string
	Recipient string // a username (with or without "@") or a user id
	Amount    string // major units as typed, e.g. "12.50"
	Notes     string // optional, shown to the recipient
	// IdempotencyKey makes a retried request return the first payout
	// instead of paying twice.
	IdempotencyKey string
}

// PayoutResult is the payout as it stands after the request.
type PayoutResult struct {
	Payout   ledger.Payout
	Replayed bool // the key was used before; nothing was sent now
}

// SendPayout pays a user from the company's ledger account. Everything that
// can be checked is checked before anything is written or sent: the admin,
// the amount, the recipient, and the balance against amount plus the
// transfer fee the ledger reports. The payout is then recorded, with its
// idempotency key and a safety-net job, before Whop is called with a key
// derived from the payout's id, so neither a retried request nor the job
// can pay twice (the transfer protocol, see sendTransfer). What the admin
// typed is checked before the admin is, so a malformed request is refused
// without a call to Whop. A transfer Whop fails in a retryable way leaves
// the payout pending for the job; one Whop refuses marks it failed
// (*RefusedError).
func (s MoneyOut) SendPayout(ctx context.Context, r PayoutRequest) (PayoutResult, error) {
	in, err := s.checkPayout(r) // first: it asks Whop nothing
	if err != nil {
		return PayoutResult{}, err
	}
	if err := s.companyAdmin(ctx, r.UserID, r.CompanyID); err != nil {
		return PayoutResult{}, err
	}
	if prev, err := s.store.PayoutByKey(ctx, r.CompanyID, in.IdempotencyKey); err == nil {
		return replay(prev, in)
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return PayoutResult{}, err
	}
	user, err := s.whop.GetUser(ctx, strings.TrimPrefix(in.RecipientInput, "@"))
	if errors.Is(err, whop.ErrNotFound) || errors.Is(err, whop.ErrInvalidArgument) || (err == nil && !strings.HasPrefix(user.ID, "user_")) {
		return PayoutResult{}, ErrUnknownRecipient
	}
	if err != nil {
		return PayoutResult{}, fmt.Errorf("billing: payout recipient: %w", err)
	}
	acct, err := s.payoutAccount(ctx, r.CompanyID)
	if err != nil {
		return PayoutResult{}, err
	}
	if acct.FeeCurrency != acct.Currency {
		// Adding a fee in one currency to an amount in another would check
		// the balance against nonsense; converting is not ours to do.
		return PayoutResult{}, &FeeCurrencyError{Fee: acct.FeeCurrency, Payout: acct.Currency}
	}
	// Amount, then the fee out of what is left: amount + fee could wrap
	// past the largest int64 and pass under the balance.
	if in.Amount > acct.Balance || acct.Fee > acct.Balance-in.Amount {
		return PayoutResult{}, &InsufficientBalanceError{Balance: acct.Balance, Fee: acct.Fee, Amount: in.Amount, Currency: acct.Currency}
	}
	in.RecipientID, in.Username = user.ID, user.Username
	in.LedgerAccountID, in.Fee = acct.LedgerAccountID, acct.Fee
	in.ID, in.RetryAt = newID("po_"), s.now().Add(s.cfg.PayoutRetryAfter)
	po, created, err := s.store.CreatePayout(ctx, in)
	if err != nil {
		return PayoutResult{}, err
	}
	if !created { // a concurrent request with the same key recorded first
		return replay(po, in)
	}
	// The intent, its key and the safety-net job are committed; now the
	// transfer, outside any transaction, and its outcome.
	if _, err := s.sendTransfer(ctx, ledger.PayoutTransfer(po)); err != nil {
		return PayoutResult{Payout: po}, err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if po, err = s.store.Payout(rctx, po.ID); err != nil {
		return PayoutResult{}, err
	}
	if po.Status == ledger.TransferFailed {
		return PayoutResult{Payout: po}, &RefusedError{What: "payout", Reason: po.LastError}
	}
	return PayoutResult{Payout: po}, nil
}

// checkPayout validates what the admin typed, without calling anyone.
func (s *core) checkPayout(r PayoutRequest) (ledger.NewPayout, error) {
	n := ledger.NewPayout{CompanyID: r.CompanyID, RequestedBy: r.UserID, Currency: string(s.cfg.Currency),
		RecipientInput: strings.TrimSpace(r.Recipient), Notes: strings.TrimSpace(r.Notes), IdempotencyKey: r.IdempotencyKey}
	switch {
	case n.IdempotencyKey == "" || len(n.IdempotencyKey) > 255:
		return n, &FieldError{Field: "idempotency_key", Message: "An idempotency key of 1 to 255 characters is required."}
	case n.RecipientInput == "" || strings.TrimPrefix(n.RecipientInput, "@") == "" || len(n.RecipientInput) > 100:
		return n, &FieldError{Field: "recipient", Message: "Enter the recipient's Whop username or user id."}
	case utf8.RuneCountInString(n.Notes) > MaxPayoutNotes:
		return n, &FieldError{Field: "notes", Message: fmt.Sprintf("Notes can be at most %d characters.", MaxPayoutNotes)}
	}
	var err error
	n.Amount, err = parseAmount(r.Amount, s.cfg.Currency, "amount")
	return n, err
}

// replay answers a payout request whose key was used before: with the
// first payout when it asked for the same thing, else with a conflict.
func replay(prev ledger.Payout, in ledger.NewPayout) (PayoutResult, error) {
	if prev.RecipientInput != in.RecipientInput || prev.Amount != in.Amount || prev.Notes != in.Notes {
		return PayoutResult{}, ledger.ErrIdempotencyConflict
	}
	return PayoutResult{Payout: prev, Replayed: true}, nil
}

// PayoutAccount is what a payout draws on: the company's ledger account,
// its available balance and the fee Whop takes per transfer.
type PayoutAccount struct {
	LedgerAccountID string
	Balance         int64 // available, minor units of Currency
	Pending         int64
	Currency        money.Currency // the payouts' currency (CREDIT_CURRENCY)
	Fee             int64          // minor units of FeeCurrency
	// FeeCurrency is the currency Whop's fee is in; a payout is refused
	// when it is not Currency (see FeeCurrencyError).
	FeeCurrency money.Currency
}

// payoutAccount reads the company's ledger account from Whop.
func (s *core) payoutAccount(ctx context.Context, companyID string) (PayoutAccount, error) {
	a, err := s.whop.GetLedgerAccount(ctx, companyID)
	if err != nil {
		return PayoutAccount{}, fmt.Errorf("billing: ledger account: %w", err)
	}
	out := PayoutAccount{LedgerAccountID: a.ID, Fee: a.TransferFee, FeeCurrency: a.TransferFeeCurrency, Currency: s.cfg.Currency}
	if b, ok := a.Balance(s.cfg.Currency); ok {
		out.Balance, out.Pending = b.Balance, b.PendingBalance
	}
	return out, nil
}

// parseAmount reads a positive amount in major units as a person types it
// ("12.50", "$12.50", "12"). Exponent notation ("1e2") is refused, whether
// it came as a string or as a JSON number: see money.ParsePlainMajor.
func parseAmount(s string, c money.Currency, field string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	n, err := money.ParsePlainMajor(strings.TrimSpace(s), c)
	switch {
	case errors.Is(err, money.ErrExponent):
		return 0, &FieldError{Field: field, Message: "Write the amount in plain digits, such as 100.00: exponent notation like 1e2 is not accepted."}
	case errors.Is(err, money.ErrPrecision):
		return 0, &FieldError{Field: field, Message: fmt.Sprintf("The amount has more decimal places than %s allows.", strings.ToUpper(string(c)))}
	case err != nil:
		return 0, &FieldError{Field: field, Message: "Enter the amount as a number, such as 12.50."}
	case n <= 0:
		return 0, &FieldError{Field: field, Message: "The amount must be more than zero."}
	}
	return n, nil
}

// FieldError is a request field that cannot be used as given.
type FieldError struct {
	Field   string
	Message string
}

// Error names the field and what is wrong with it.
func (e *FieldError) Error() string { return "billing: " + e.Field + ": " + e.Message }

// InsufficientBalanceError means the company's Whop balance does not cover
// the payout and its transfer fee; nothing was recorded or sent.
type InsufficientBalanceError struct {
	Balance, Fee, Amount int64
	Currency             money.Currency
}

// Error states the balance, the amount and the fee in minor units.
func (e *InsufficientBalanceError) Error() string {
	return fmt.Sprintf("billing: balance %d does not cover %d plus fee %d", e.Balance, e.Amount, e.Fee)
}

// FeeCurrencyError means Whop reports the transfer fee in another currency
// than the payout's, so the balance cannot be checked against amount plus
// fee; nothing was recorded or sent.
type FeeCurrencyError struct {
	Fee, Payout money.Currency
}

// Error names both currencies.
func (e *FeeCurrencyError) Error() string {
	return fmt.Sprintf("billing: transfer fee in %s, payout in %s", e.Fee, e.Payout)
}

// RefusedError is Whop refusing a payout or a refund, with its reason.
type RefusedError struct {
	What   string // "payout" or "refund"
	Reason string
}

// Error carries Whop's reason.
func (e *RefusedError) Error() string { return "billing: Whop refused the " + e.What + ": " + e.Reason }
