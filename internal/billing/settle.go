package billing

import (
	"context"
	"errors"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// settle applies payment p to purchase pur in one statement (ledger.Settle),
// which checks the purchase's side of mismatch under the purchase's lock.
// Only pur's id is needed when p reverses nothing; a refund's credits are
// in proportion to pur's.
func (s *core) settle(ctx context.Context, p *whop.Payment, pur ledger.Purchase, src Source, d *ledger.Delivery, runID int64) (Outcome, error) {
	reversed := reversedAmount(p)
	purchaseID := pur.ID
	res, err := s.store.Settle(ctx, ledger.Settlement{
		PurchaseID: purchaseID,
		PaymentID:  p.ID,
		PaidAmount: p.Total,
		// Stored only for the purchase's own buyer: Match refuses another
		// user's payment under the purchase's lock.
		BuyerUsername:   usableUsername(p),
		RefundedAmount:  reversed,
		RefundedCredits: proportionUp(pur.Credits, reversed, p.Total),
		Match: &ledger.PaymentMatch{UserID: p.UserID, Currency: string(p.Currency), CheckoutID: p.CheckoutConfigurationID,
			Disputed: disputeOpen(p) || disputeLost(p)},
		Share:         s.shareTerms(p),
		ReconcilerRun: runID,
	}, d)
	switch {
	case errors.Is(err, ledger.ErrDuplicateDelivery):
		return Outcome{Duplicate: true}, nil
	case errors.Is(err, ledger.ErrPaidByOtherPayment):
		// pur may hold its id alone (a delivery's first try): the buyer
		// is then not counted as charged, which a paid purchase's
		// receipts never read.
		return s.reject(ctx, p, pur, src, d, "purchase already paid by another payment")
	case err != nil:
		return Outcome{}, err
	}
	return Outcome{Purchase: res.Purchase, Credited: res.Credited, TakenBack: res.TakenBack, Balance: res.Balance}, nil
}

// seenBefore reports whether delivery d (nil: none) was processed already,
// for a path that would otherwise ask Whop before its write tells a repeat.
func (s *core) seenBefore(ctx context.Context, d *ledger.Delivery) (bool, error) {
	if d == nil {
		return false, nil
	}
	return s.store.DeliverySeen(ctx, d.ID)
}
