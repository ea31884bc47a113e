package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// HandleDelivery applies one authenticated webhook delivery. It returns nil
// only once its effect and the delivery record are committed together, so
// the caller may answer 2xx; a repeat delivery does nothing and returns nil.
// Whop delivers at least once, so repeats are normal traffic: they end after
// one indexed read, before decode (which parses the body) is called. An
// error means "answer 5xx" (Whop will deliver again), except a decode error
// (whop.ErrMalformedEvent), which retrying cannot fix.
func (s *Service) HandleDelivery(ctx context.Context, id string, decode func() (*whop.Event, error)) (string, error) {
	if s.seen.has(id) {
		return "duplicate", nil
	}
	seen, err := s.store.DeliverySeen(ctx, id)
	if err != nil {
		return "", err
	}
	if seen {
		s.seen.add(id)
		return "duplicate", nil
	}
	ev, err := decode()
	if err != nil {
		return "", err
	}
	outcome, err := s.handleEvent(ctx, ev)
	if err == nil {
		s.seen.add(id) // committed with its effect: recorded for good
	}
	return outcome, err
}

// HandleEvent is HandleDelivery for an event already decoded.
func (s *Service) HandleEvent(ctx context.Context, ev *whop.Event) (string, error) {
	return s.HandleDelivery(ctx, ev.ID, func() (*whop.Event, error) { return ev, nil })
}

func (s *Service) handleEvent(ctx context.Context, ev *whop.Event) (string, error) {
	d := &ledger.Delivery{ID: ev.ID, Type: ev.Type, Scheme: string(ev.Scheme), CompanyID: ev.CompanyID}
	switch ev.Type {
	case whop.EventPaymentSucceeded, whop.EventAppPaymentSucceeded:
		p, err := ev.Payment()
		if err != nil {
			return s.malformed(ctx, d, err)
		}
		d.ObjectID = p.ID
		if s.isPremiumPayment(p) {
			return s.premiumPayment(ctx, p, d)
		}
		return describe(s.FulfilPayment(ctx, p, FromWebhook, d))

	case whop.EventMembershipActivated, whop.EventMembershipDeactivated,
		whop.EventMembershipWentValid, whop.EventMembershipWentInvalid,
		whop.EventAppMembershipWentValid, whop.EventAppMembershipWentInvalid,
		whop.EventMembershipCancelAtPeriodEnd, whop.EventAppMembershipCancelAtPeriodEnd:
		return s.membershipEvent(ctx, ev, d)

	case whop.EventPaymentFailed, whop.EventAppPaymentFailed, whop.EventPaymentPending, whop.EventAppPaymentPending:
		p, err := ev.Payment()
		if err != nil {
			return s.malformed(ctx, d, err)
		}
		d.ObjectID = p.ID
		return s.paymentNotPaid(ctx, p, d)

	case whop.EventRefundCreated, whop.EventRefundUpdated:
		r, err := ev.Refund()
		if err != nil {
			return s.malformed(ctx, d, err)
		}
		d.ObjectID = r.ID
		// Refund events arrive in any order, possibly before the payment's
		// success: the payment as Whop holds it now is the truth, and
		// FulfilPayment applies both its success and its refunds.
		p, err := s.whop.GetPayment(ctx, r.PaymentID)
		if err != nil {
			return "", fmt.Errorf("billing: refund %s: re-read payment: %w", r.ID, err)
		}
		return describe(s.FulfilPayment(ctx, p, FromWebhook, d))

	case whop.EventDisputeCreated, whop.EventDisputeUpdated:
		dp, err := ev.Dispute()
		if err != nil {
			return s.malformed(ctx, d, err)
		}
		d.ObjectID = dp.ID
		// A lost dispute takes the credits back like a full refund: apply
		// the payment as Whop holds it now before recording the delivery, so
		// a crash in between makes the redelivery do both again.
		if p, err := s.whop.GetPayment(ctx, dp.PaymentID); err == nil {
			if _, err := s.FulfilPayment(ctx, p, FromWebhook, nil); err != nil {
				return "", fmt.Errorf("billing: dispute %s: %w", dp.ID, err)
			}
		} else if !errors.Is(err, whop.ErrNotFound) {
			return "", fmt.Errorf("billing: dispute %s: re-read payment: %w", dp.ID, err)
		}
		err = s.store.RecordDispute(ctx, ledger.Dispute{
			ID: dp.ID, PaymentID: dp.PaymentID, Amount: dp.Amount, Currency: string(dp.Currency),
			Status: dp.Status, Reason: dp.Reason,
		}, d)
		if errors.Is(err, ledger.ErrDuplicateDelivery) {
			return "duplicate", nil
		}
		if err != nil {
			return "", err
		}
		return "dispute " + dp.Status, nil
	}
	if err := s.store.RecordDelivery(ctx, *d, "ignored: unhandled type"); err != nil && !errors.Is(err, ledger.ErrDuplicateDelivery) {
		return "", err
	}
	return "ignored", nil
}

// paymentNotPaid records a failed or pending payment on its purchase. A
// failure never undoes a fulfilment: a purchase once paid stays paid.
func (s *Service) paymentNotPaid(ctx context.Context, p *whop.Payment, d *ledger.Delivery) (string, error) {
	purchaseID := p.Metadata[MetaPurchaseID]
	if purchaseID == "" {
		return describe(s.ignore(ctx, d, "not a Creditkit purchase"))
	}
	pur, err := s.store.Purchase(ctx, purchaseID)
	if errors.Is(err, ledger.ErrNotFound) {
		return describe(s.ignore(ctx, d, "metadata names an unknown purchase"))
	}
	if err != nil {
		return "", err
	}
	status, reason := ledger.PurchaseProcessing, ""
	if d.Type == whop.EventPaymentFailed || d.Type == whop.EventAppPaymentFailed {
		status, reason = ledger.PurchaseFailed, p.FailureMessage
		if reason == "" {
			reason = "payment failed"
		}
	}
	_, err = s.store.MarkPurchase(ctx, purchaseID, status, reason, buyerName(p, pur), d)
	if errors.Is(err, ledger.ErrDuplicateDelivery) {
		return "duplicate", nil
	}
	if err != nil {
		return "", err
	}
	return "purchase " + string(status), nil
}

// malformed acknowledges a signed delivery whose data we cannot read:
// retrying would not change it, so it is recorded, not bounced.
func (s *Service) malformed(ctx context.Context, d *ledger.Delivery, cause error) (string, error) {
	s.log.ErrorContext(ctx, "webhook data unreadable", "delivery_id", d.ID, "type", d.Type, "error", cause.Error())
	if err := s.store.RecordDelivery(ctx, *d, "ignored: unreadable data"); err != nil && !errors.Is(err, ledger.ErrDuplicateDelivery) {
		return "", err
	}
	return "ignored: unreadable data", nil
}

func describe(o Outcome, err error) (string, error) {
	switch {
	case err != nil:
		return "", err
	case o.Duplicate:
		return "duplicate", nil
	case o.Rejected != "":
		return "rejected: " + o.Rejected, nil
	case o.Ignored != "":
		return "ignored: " + o.Ignored, nil
	case o.Credited > 0 || o.TakenBack > 0:
		return fmt.Sprintf("credited %d, took back %d", o.Credited, o.TakenBack), nil
	}
	return "no change", nil
}

// buyerName is the payment's username when the payment is the purchase's
// buyer's own: anyone's payment can carry a purchase id in its metadata.
func buyerName(p *whop.Payment, pur ledger.Purchase) string {
	if p.UserID != pur.UserID {
		return ""
	}
	return p.Username
}
