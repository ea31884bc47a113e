package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// RefundRequest asks Whop to refund a payment, in full or in part.
type RefundRequest struct {
	UserID, CompanyID, PaymentID string
	// Amount is the part to refund in major units as typed ("2.50"); empty
	// refunds what is left.
	Amount string
	// IdempotencyKey goes to Whop with the refund, so the same request sent
	// again (a resubmitted form, a retry after a lost answer) refunds once,
	// even before Whop's asynchronous refund shows on the payment.
	IdempotencyKey string
}

// RefundIdempotencyKey is the Idempotency-Key Whop sees for a refund asked
// with key: namespaced, as Whop's keys are shared by all of the app's calls.
func RefundIdempotencyKey(key string) string { return "creditkit:refund:" + key }

// RefundablePayment is the look-up of a payment that userID may refund now
// for companyID: an admin of the app owner's company (the company that
// received the payment; a creator's admin gets ErrRefundOwnerOnly, since
// the refund would come out of the owner's money while the creator keeps
// its share), and a payment Whop would refund (else ErrNotRefundable).
func (s MoneyOut) RefundablePayment(ctx context.Context, userID, companyID, paymentID string) (PaymentLookup, error) {
	if err := s.companyAdmin(ctx, userID, companyID); err != nil {
		return PaymentLookup{}, err
	}
	if companyID != s.cfg.CompanyID {
		return PaymentLookup{}, ErrRefundOwnerOnly
	}
	// A refund decides money: its look-up reads our books on the primary.
	look, err := s.lookupPayment(ctx, userID, companyID, paymentID, true)
	if err == nil && !look.CanRefund {
		err = ErrNotRefundable
	}
	return look, err
}

// RefundPayment refunds a payment the owner's admin may refund (see
// RefundablePayment), through Whop's API, under the request's idempotency
// key (required: a resubmitted form must not refund twice while Whop has
// not settled the first refund). It does not touch credits: Whop's
// refund webhook does, through FulfilPayment, exactly as for a refund made
// anywhere else.
func (s MoneyOut) RefundPayment(ctx context.Context, r RefundRequest) (PaymentLookup, error) {
	look, err := s.RefundablePayment(ctx, r.UserID, r.CompanyID, r.PaymentID)
	if err != nil {
		return look, err
	}
	if r.IdempotencyKey == "" || len(r.IdempotencyKey) > 200 {
		return look, &FieldError{Field: "idempotency_key", Message: "An idempotency key of 1 to 200 characters is required: reload the page and try again."}
	}
	p := look.Payment
	var partial *money.Amount
	if strings.TrimSpace(r.Amount) != "" {
		n, err := parseAmount(r.Amount, p.Currency, "amount")
		if err != nil {
			return look, err
		}
		if left := p.Total - p.RefundedAmount; n > left {
			return look, &FieldError{Field: "amount", Message: "At most " +
				money.Amount{Minor: left, Currency: p.Currency}.String() + " can be refunded."}
		}
		if n < p.Total {
			partial = &money.Amount{Minor: n, Currency: p.Currency}
		}
	}
	refunded, err := s.whop.RefundPayment(ctx, p.ID, whop.RefundParams{Partial: partial, IdempotencyKey: RefundIdempotencyKey(r.IdempotencyKey)})
	var apiErr *whop.APIError
	if errors.As(err, &apiErr) && (errors.Is(err, whop.ErrBadRequest) || errors.Is(err, whop.ErrNotFound)) {
		return look, &RefusedError{What: "refund", Reason: apiErr.Message}
	}
	if err != nil {
		return look, fmt.Errorf("billing: refund %s: %w", p.ID, err)
	}
	s.log.InfoContext(ctx, "payment refunded by an admin", "payment_id", p.ID, "company_id", r.CompanyID,
		"admin_id", r.UserID, "refunded_amount", refunded.RefundedAmount)
	look.Payment = refunded
	look.RefundState, look.CanRefund = refundState(refunded), false
	return look, nil
}
