package billing

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// A member who pays on Whop's hosted checkout page (outside the iframe, or
// by choice) is sent back to the app at the redirect URL the checkout
// configuration carries. That URL names our purchase, so coming back does
// not depend on whatever query parameters Whop appends, and the return is
// one more path to FulfilPayment: it reads the configuration's payments from
// Whop and fulfils a paid one, exactly as the webhook would. Whichever of the
// two comes first credits; the other finds the purchase paid.

// ReturnPath is the app page Whop's hosted checkout sends the buyer of
// purchaseID back to. The server routes it (routes.go).
func ReturnPath(purchaseID string) string {
	return "/purchases/" + url.PathEscape(purchaseID) + "/return"
}

// appURL is path on the app's public origin, or "" when the origin is not
// configured, in which case Whop keeps the buyer on its own page. Any
// checkout the app makes (credits here, the premium plan too) passes it as
// the configuration's redirect URL.
func (s *core) appURL(path string) string {
	if s.cfg.AppURL == "" {
		return ""
	}
	return s.cfg.AppURL + path
}

// returnURL is where a credit purchase's buyer comes back to.
func (s *core) returnURL(purchaseID string) string { return s.appURL(ReturnPath(purchaseID)) }

// ReturnStatus is how a purchase stands when its buyer comes back.
type ReturnStatus string

// Return statuses.
const (
	ReturnPaid       ReturnStatus = "paid"       // credited (now or before)
	ReturnProcessing ReturnStatus = "processing" // Whop shows no settled payment yet
	ReturnFailed     ReturnStatus = "failed"     // the payment failed: nobody was charged
	// ReturnRefused: Whop holds a paid payment of the buyer's for the
	// purchase that does not match it (amount, currency, an open dispute),
	// refused and recorded in the app owner's books, where it can be
	// refunded. Nothing was credited, but the buyer was charged: not a
	// failure to try again after.
	ReturnRefused ReturnStatus = "refused"
)

// ReturnResult is what the buyer's return page shows.
type ReturnResult struct {
	Purchase ledger.Purchase
	Status   ReturnStatus
	Balance  int64  // the wallet's balance now
	Reason   string // why it failed, in words for the buyer
	// Attempts is how many of the buyer's payments Whop listed for the
	// purchase's checkout when it was settled unpaid: 0 means the buyer has
	// not tried to pay, as far as Whop shows yet.
	Attempts int
	// Unchecked is true when Whop could not be asked (it did not answer).
	Unchecked bool
}

// Return settles a member's purchase on their way back from Whop's hosted
// checkout. Only the purchase's own buyer gets an answer: anyone else, like
// an unknown id, gets ledger.ErrNotFound, so a purchase id reveals nothing.
// A purchase already paid is only read, so coming back twice (or after the
// webhook) credits nothing more.
func (s Credits) Return(ctx context.Context, userID, purchaseID string) (ReturnResult, error) {
	pur, err := s.store.Purchase(ctx, purchaseID)
	if errors.Is(err, ledger.ErrNotFound) || (err == nil && pur.UserID != userID) {
		return ReturnResult{}, ledger.ErrNotFound
	}
	if err != nil {
		return ReturnResult{}, err
	}
	res := ReturnResult{Purchase: pur, Status: ReturnPaid}
	if pur.Status != ledger.PurchasePaid {
		if res, err = s.settleReturn(ctx, pur); err != nil {
			return ReturnResult{}, err
		}
	}
	res.Balance, err = s.store.Balance(ctx, pur.ExperienceID, pur.UserID)
	return res, err
}

// settleReturn reads the payments Whop made for the purchase's checkout
// configuration and fulfils the buyer's first paid one; only the buyer's
// own payments are their attempts. A paid payment wins over
// one still pending (a retry after a declined card), which wins over a
// failure; no payment at all is still processing, since Whop shows a new
// payment only after a moment.
func (s *core) settleReturn(ctx context.Context, pur ledger.Purchase) (ReturnResult, error) {
	payments := s.whop.ListPayments(ctx, whop.ListPaymentsParams{
		CompanyID:                s.cfg.CompanyID,
		CheckoutConfigurationIDs: []string{pur.CheckoutID},
		PageSize:                 20,
	})
	var pending bool
	var failure, rejected string
	var attempts int
	var buyer string
	var failedPay *whop.Payment      // the newest failure
	var earlierFails []*whop.Payment // the buyer's other failed payments
	for p, err := range payments {
		if err != nil {
			// Whop did not answer: the buyer sees "confirming" and the page
			// asks again; the webhook and the reconciler do not need us.
			s.log.WarnContext(ctx, "return: could not list the checkout's payments",
				"purchase_id", pur.ID, "error", err.Error())
			return ReturnResult{Purchase: pur, Status: ReturnProcessing, Unchecked: true}, nil
		}
		if p.Metadata[MetaPurchaseID] != pur.ID {
			continue // not this purchase's: none of this page's business
		}
		if err := checkPayment(p); err != nil {
			// Nothing of it may be stored, its failure message included.
			s.log.WarnContext(ctx, "return: skipped an unusable payment", "purchase_id", pur.ID, "error", err.Error())
			continue
		}
		if anotherUsers(p, pur) {
			// Someone else paid on the buyer's checkout (its link can be
			// passed on). A paid one is refused and recorded in the owner's
			// books, as every path records it, for the owner to refund; but
			// it is none of the buyer's attempts: it neither charged them
			// nor tells how their own checkout went, and their receipt
			// reads "Not paid" for it.
			if p.IsPaid() {
				if _, err := s.fulfilPayment(ctx, p, FromReturn, nil); err != nil {
					return ReturnResult{}, err
				}
			}
			continue
		}
		attempts++
		switch {
		case p.IsPaid():
			out, err := s.fulfilPayment(ctx, p, FromReturn, nil)
			if err != nil {
				return ReturnResult{}, err
			}
			if out.Rejected != "" {
				rejected = out.Rejected
				continue
			}
			paid, err := s.store.Purchase(ctx, pur.ID)
			return ReturnResult{Purchase: paid, Status: ReturnPaid}, err
		case failedPayment(p):
			if failedPay != nil && p.UpdatedAt.Before(failedPay.UpdatedAt) {
				earlierFails = append(earlierFails, p) // the newest one is the purchase's
				continue
			}
			if failedPay != nil {
				earlierFails = append(earlierFails, failedPay)
			}
			failure, failedPay = cmp.Or(p.FailureMessage, "The payment failed."), p
			if name := buyerName(p, pur); name != "" {
				buyer = name
			}
		default:
			pending = true
		}
	}
	if failure != "" && !pending && rejected == "" {
		// Every failure is recorded, not the newest alone: the purchase's
		// status is derived from all its payments' states, and an earlier
		// payment whose failure's webhook was lost would otherwise still
		// read as under way (MarkPurchase keeps each payment's own).
		for _, p := range earlierFails {
			st := ledger.PaymentState{Status: ledger.PurchaseFailed, Reason: cmp.Or(p.FailureMessage, "The payment failed."),
				PaymentID: p.ID, At: p.UpdatedAt}
			if _, err := s.store.MarkPurchase(ctx, pur.ID, st, nil); err != nil {
				return ReturnResult{}, err
			}
		}
	}
	res, err := s.settleUnpaid(ctx, pur, pending, failure, failedPay, rejected, buyer)
	res.Attempts = attempts
	return res, err
}

// refusedReason words, for the buyer, why a paid payment was refused (the
// mismatch's own reason is for the books): a dispute may still end with
// the credits added; anything else does not match the purchase.
func refusedReason(rejected string) string {
	if strings.HasPrefix(rejected, reasonDisputed) {
		return "Whop's payment for this purchase is disputed, so no credits are added while the dispute is open."
	}
	return "Whop's payment does not match this purchase, so no credits were added."
}

// settleUnpaid is what settleReturn found when no payment paid the
// purchase: one still pending, a failure (the newest, failedPay, worded
// for the buyer), or a payment we refused.
func (s *core) settleUnpaid(ctx context.Context, pur ledger.Purchase, pending bool, failure string, failedPay *whop.Payment, rejected, buyer string) (ReturnResult, error) {
	switch {
	case pending:
		return ReturnResult{Purchase: pur, Status: ReturnProcessing}, nil
	case rejected != "":
		// Another payment may have paid the purchase meanwhile (a buyer
		// who paid twice): then the purchase is paid, and the extra
		// payment is recorded for the creator to refund.
		cur, err := s.store.Purchase(ctx, pur.ID)
		if err != nil || cur.Status == ledger.PurchasePaid {
			return ReturnResult{Purchase: cur, Status: ReturnPaid}, err
		}
		return ReturnResult{Purchase: cur, Status: ReturnRefused, Reason: refusedReason(rejected)}, nil
	case failure != "":
		// Record it as the payment.failed webhook would; a paid purchase
		// never moves back, so a late failure cannot undo a credit.
		marked, err := s.store.MarkPurchase(ctx, pur.ID,
			ledger.PaymentState{Status: ledger.PurchaseFailed, Reason: failure, Buyer: buyer, PaymentID: failedPay.ID, At: failedPay.UpdatedAt}, nil)
		switch cur := marked.Purchase; {
		case err != nil:
			return ReturnResult{}, err
		case cur.Status == ledger.PurchasePaid:
			return ReturnResult{Purchase: cur, Status: ReturnPaid}, nil
		case cur.Status == ledger.PurchaseProcessing:
			// Another payment of the purchase is under way, as recorded.
			return ReturnResult{Purchase: cur, Status: ReturnProcessing}, nil
		case marked.Ignored != "":
			return ReturnResult{Purchase: cur, Status: ReturnFailed, Reason: cur.FailureReason}, nil
		}
		return ReturnResult{Purchase: marked.Purchase, Status: ReturnFailed, Reason: failure}, nil
	case pur.Status == ledger.PurchaseFailed:
		return ReturnResult{Purchase: pur, Status: ReturnFailed, Reason: pur.FailureReason}, nil
	}
	return ReturnResult{Purchase: pur, Status: ReturnProcessing}, nil
}

// failedPayment reports whether a payment that is not paid will not be.
func failedPayment(p *whop.Payment) bool {
	return p.Substatus == whop.SubstatusFailed || p.Status == whop.PaymentVoid || p.Status == whop.PaymentUncollectible
}
