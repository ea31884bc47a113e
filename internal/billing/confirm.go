package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// ConfirmResult is what the browser learns after inAppPurchase said ok.
type ConfirmResult struct {
	Purchase ledger.Purchase
	Balance  int64
}

// Confirm fulfils a member's purchase from the receipt id the purchase modal
// returned. The payment is fetched from Whop rather than trusted from the
// browser; a brand-new payment reads 404 briefly, so that is waited out.
func (s Credits) Confirm(ctx context.Context, userID, purchaseID, receiptID string) (ConfirmResult, error) {
	pur, err := s.store.Purchase(ctx, purchaseID)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return ConfirmResult{}, err
	}
	if err != nil || pur.UserID != userID {
		return ConfirmResult{}, ledger.ErrNotFound // someone else's purchase is nobody's business
	}
	if pur.Status != ledger.PurchasePaid {
		p, err := s.paymentWhenReadable(ctx, receiptID)
		if err != nil {
			return ConfirmResult{}, err
		}
		if p.Metadata[MetaPurchaseID] != purchaseID {
			return ConfirmResult{}, ErrNotYourPayment
		}
		if !p.IsPaid() && anotherUsers(p, pur) {
			// Another user's unpaid payment says nothing of this purchase
			// (paymentNotPaid); a paid one is refused and recorded below.
			return ConfirmResult{}, ErrNotYourPayment
		}
		if !p.IsPaid() {
			if pur, err = s.unpaidReceipt(ctx, pur, p); err != nil {
				return ConfirmResult{}, err
			}
		} else {
			out, err := s.fulfilPayment(ctx, p, FromConfirm, nil)
			if err != nil {
				return ConfirmResult{}, err
			}
			switch {
			case out.Rejected != "" && anotherUsers(p, pur):
				// Recorded for the owner to refund; to the buyer it is a
				// receipt that is not theirs, as an unpaid one is.
				return ConfirmResult{}, ErrNotYourPayment
			case out.Rejected != "":
				return ConfirmResult{}, &RejectedError{Reason: out.Rejected}
			}
			if pur, err = s.store.Purchase(ctx, purchaseID); err != nil {
				return ConfirmResult{}, err
			}
		}
	}
	bal, err := s.store.Balance(ctx, pur.ExperienceID, pur.UserID)
	return ConfirmResult{Purchase: pur, Balance: bal}, err
}

// unpaidReceipt records what a receipt's payment that is not paid says of
// its purchase, as the payment webhooks would: failed for good (a
// *DeclinedError), or still pending at Whop (ErrPaymentPending: the
// webhook credits it once paid). Neither is a payment that does not match
// the purchase: refusing one would tell the member their payment was
// wrong, and leave a rejection in the books, for a payment about to clear.
// The answer is what the purchase became, which need not be what was
// asked: a purchase some payment paid meanwhile is returned as it stands,
// a receipt whose state the purchase's outranks (a declined card's while
// another payment of the member's is under way) answers with the
// purchase's own (MarkPurchase's order),
// and a top-up's failed purchase stays failed (MarkPurchase).
func (s *core) unpaidReceipt(ctx context.Context, pur ledger.Purchase, p *whop.Payment) (ledger.Purchase, error) {
	st := ledger.PaymentState{Status: ledger.PurchaseProcessing, Buyer: buyerName(p, pur), PaymentID: p.ID, At: p.UpdatedAt}
	if failedPayment(p) {
		st.Status, st.Reason = ledger.PurchaseFailed, cmp.Or(p.FailureMessage, "payment failed")
	}
	marked, err := s.store.MarkPurchase(ctx, pur.ID, st, nil)
	switch cur := marked.Purchase; {
	case err != nil:
		return ledger.Purchase{}, err
	case cur.Status == ledger.PurchasePaid:
		return cur, nil
	case cur.Status == ledger.PurchaseFailed && marked.Ignored == "":
		return ledger.Purchase{}, &DeclinedError{Reason: p.FailureMessage}
	case cur.Status == ledger.PurchaseFailed:
		return ledger.Purchase{}, &DeclinedError{Reason: cur.FailureReason}
	}
	return ledger.Purchase{}, ErrPaymentPending
}

// DeclinedError is a purchase's payment that Whop failed, with Whop's
// reason ("" when it gave none): nothing was charged, and the member may
// try again.
type DeclinedError struct{ Reason string }

func (e *DeclinedError) Error() string { return "billing: payment failed: " + e.Reason }

// RejectedError is a payment Creditkit refused to fulfil, with the reason.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "billing: payment not fulfilled: " + e.Reason }

func (s *core) paymentWhenReadable(ctx context.Context, id string) (*whop.Payment, error) {
	deadline := s.now().Add(s.cfg.PaymentWait)
	wait := 250 * time.Millisecond
	for {
		p, err := s.whop.GetPayment(ctx, id)
		if !errors.Is(err, whop.ErrNotFound) {
			if err != nil {
				return nil, fmt.Errorf("billing: fetch payment: %w", err)
			}
			return p, nil
		}
		if !s.now().Add(wait).Before(deadline) {
			return nil, ErrPaymentPending
		}
		if err := s.sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(wait*2, 2*time.Second)
	}
}
