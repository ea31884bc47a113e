package billing

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// Whop's purchase modal answers the app with {status: "error", error: "…"}
// both when the buyer closes it and when their card is declined: the
// iframe SDK's schema has one error shape, and Whop does not document its
// error strings. So the app does not read meaning into the string: it asks
// Whop's own records what happened to the purchase's checkout, the way the
// return from the hosted checkout does.

// ModalEnd is how a checkout in Whop's purchase modal ended.
type ModalEnd string

// How a modal checkout can end.
const (
	ModalPaid       ModalEnd = "paid"       // a payment paid it (credited now or before)
	ModalDeclined   ModalEnd = "declined"   // the buyer tried to pay and Whop failed the payment
	ModalRefused    ModalEnd = "refused"    // a paid payment that does not match: refused, not credited (ReturnRefused)
	ModalProcessing ModalEnd = "processing" // a payment is still pending at Whop
	ModalClosed     ModalEnd = "closed"     // no payment was made: the buyer closed the checkout
	ModalUnknown    ModalEnd = "unknown"    // Whop did not answer
)

// ModalOutcome is what the purchase modal's error meant.
type ModalOutcome struct {
	End      ModalEnd
	Purchase ledger.Purchase
	Balance  int64
	Reason   string // why: Whop's reason for a declined payment, or why a paid one was refused
}

// modalWait bounds how long CheckModalOutcome waits for a payment to appear
// in Whop's list: a new one is hidden briefly, so an empty list is only
// trusted as "closed" after that long.
const modalWait = 3 * time.Second

// CheckModalOutcome settles a purchase whose modal ended without a receipt,
// from the buyer's own payments on its checkout (another user's are not
// their attempt): one Whop shows as paid is fulfilled (FulfilPayment, so
// nothing is credited twice) or, when it does not match the purchase,
// refused (ModalRefused: not credited, the buyer was charged); a failed one
// marks the purchase failed with Whop's reason; and none at all, after
// Whop's usual delay, means the buyer closed the checkout. Only the
// purchase's buyer gets an answer; no transaction is open while Whop is
// asked or waited for.
func (s Credits) CheckModalOutcome(ctx context.Context, userID, purchaseID string) (ModalOutcome, error) {
	deadline := s.now().Add(modalWait)
	for {
		res, err := s.Return(ctx, userID, purchaseID)
		if err != nil {
			return ModalOutcome{}, err
		}
		out := ModalOutcome{Purchase: res.Purchase, Balance: res.Balance, Reason: res.Reason}
		switch {
		case res.Status == ReturnPaid:
			out.End = ModalPaid
			return out, nil
		case res.Status == ReturnFailed:
			out.End = ModalDeclined
			return out, nil
		case res.Status == ReturnRefused:
			out.End = ModalRefused
			return out, nil
		case res.Unchecked:
			out.End = ModalUnknown
			return out, nil
		case res.Attempts > 0:
			out.End = ModalProcessing
			return out, nil
		case !s.now().Before(deadline):
			out.End = ModalClosed
			return out, nil
		}
		if err := s.sleep(ctx, 500*time.Millisecond); err != nil {
			return ModalOutcome{}, err
		}
	}
}
