package billing

import (
	"context"
	"errors"
	"fmt"
	"math/bits"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// Source names the path that saw a payment.
type Source string

// The paths to fulfilment. All of them call FulfilPayment.
const (
	FromWebhook   Source = "webhook"
	FromConfirm   Source = "confirm"
	FromReconcile Source = "reconcile"
	FromReturn    Source = "return"
)

// Outcome is what FulfilPayment did with a payment.
type Outcome struct {
	Purchase  ledger.Purchase
	Credited  int64  // credits given now
	TakenBack int64  // credits taken back now for refunds
	Balance   int64  // the wallet's balance afterwards
	Rejected  string // why the payment was refused, when it was
	Ignored   string // why the payment was none of ours, when it was not
	Duplicate bool   // the delivery was processed before; nothing happened
}

// fulfilPayment is the one fulfilment function. Given a Whop payment, seen
// by the webhook, the confirm call, the reconciler or the checkout return,
// it credits the purchase the payment's metadata names at most once, and
// takes back credits for any refund on it. It fulfils only a payment that is
// paid, whose user is the purchase's user, whose currency is the purchase's
// and whose amount covers the price fixed when the purchase was made;
// anything else is recorded with its reason and credits nothing. d, when
// set, is the webhook delivery, recorded in the same transaction.
func (s *core) fulfilPayment(ctx context.Context, p *whop.Payment, src Source, d *ledger.Delivery) (Outcome, error) {
	return s.fulfil(ctx, p, src, d, 0)
}

// fulfil is FulfilPayment for a reconciler run (runID), which has its
// repairs counted in the transactions that make them.
func (s *core) fulfil(ctx context.Context, p *whop.Payment, src Source, d *ledger.Delivery, runID int64) (Outcome, error) {
	if err := checkPayment(p); err != nil {
		return Outcome{}, err // nothing of it may be stored, not even as a rejection
	}
	p = offSession(p) // a top-up's off-session payment: its top-up is its checkout (topup.go)
	purchaseID := p.Metadata[MetaPurchaseID]
	if purchaseID == "" {
		// No purchase named: none of ours, unless this payment already
		// paid one, which it stays: a refund or a lost dispute of a payment
		// Whop answers without its metadata (as a top-up's charge can be,
		// TopUps.settlePayment) still takes back what the payment credited.
		pur, err := s.store.PurchaseByPayment(ctx, p.ID)
		if errors.Is(err, ledger.ErrNotFound) {
			return s.ignore(ctx, d, "not a Creditkit purchase")
		}
		if err != nil {
			return Outcome{}, err
		}
		p = offSession(withPurchaseNames(p, pur))
		purchaseID = pur.ID
	}
	if d != nil && p.IsPaid() && p.CompanyID == s.cfg.CompanyID && p.CheckoutConfigurationID != "" && reversedAmount(p) == 0 {
		// A delivery of a payment with nothing taken back that names
		// everything the checks need is settled at once: the purchase's side
		// of the checks is made under its row lock, in the one statement
		// that writes everything (and tells a repeat). Only a payment its
		// purchase refuses, which writes nothing, goes on to read the
		// purchase and say why.
		out, err := s.settle(ctx, p, ledger.Purchase{ID: purchaseID}, src, d, runID)
		if !errors.Is(err, ledger.ErrPaymentMismatch) && !errors.Is(err, ledger.ErrNotFound) {
			return out, err
		}
	}
	pur, err := s.store.Purchase(ctx, purchaseID)
	if errors.Is(err, ledger.ErrNotFound) {
		return s.reject(ctx, p, ledger.Purchase{ID: purchaseID}, src, d, "metadata names an unknown purchase")
	}
	if err != nil {
		return Outcome{}, err
	}
	if p.CompanyID == "" || p.CheckoutConfigurationID == "" {
		// Some shapes (legacy webhooks) may leave out the company or the
		// checkout, and the checks below need both to hold, not merely not
		// contradict: the payment as Whop's v1 API holds it has them. A
		// repeat delivery is told before Whop is asked.
		if seen, err := s.seenBefore(ctx, d); err != nil || seen {
			return Outcome{Duplicate: seen}, err
		}
		fresh, err := s.whop.GetPayment(ctx, p.ID)
		if err != nil {
			return Outcome{}, fmt.Errorf("billing: re-read payment %s: %w", p.ID, err)
		}
		if err := checkPayment(fresh); err != nil {
			return Outcome{}, err
		}
		if fresh.Metadata[MetaPurchaseID] == "" {
			// The same payment read again without its metadata: it stays
			// the purchase it was known as.
			fresh = withPurchaseNames(fresh, pur)
		}
		p = offSession(fresh)
	}
	if reason := mismatch(p, pur, s.cfg.CompanyID); reason != "" {
		return s.reject(ctx, p, pur, src, d, reason)
	}
	if d == nil && settled(pur, p, reversedAmount(p)) {
		// The reconciler re-reads every payment of its overlap window on each
		// run, and nearly all are settled: answering those from a plain read
		// spares each a row lock and a commit to flush, and keeps a run from
		// queueing behind (or blocking) webhooks on the same purchases.
		bal, err := s.store.Balance(ctx, pur.ExperienceID, pur.UserID)
		return Outcome{Purchase: pur, Balance: bal}, err
	}
	return s.settle(ctx, p, pur, src, d, runID)
}

// settled reports whether a purchase already reflects everything payment p
// says: paid by p, with at least the reversed amount applied. Both only ever
// grow (a paid purchase stays paid, refunds are cumulative and stored with
// GREATEST), so a read without a lock can be stale only towards "not yet",
// which Settle then handles under the lock.
func settled(pur ledger.Purchase, p *whop.Payment, reversed int64) bool {
	return pur.Status == ledger.PurchasePaid && pur.PaymentID == p.ID &&
		pur.RefundedAmount >= reversed &&
		pur.RefundedCredits >= min(proportionUp(pur.Credits, reversed, p.Total), pur.Credits)
}

// reversedAmount is how much of a payment went back to the buyer: its
// refunds, or all of it once a dispute (chargeback) is lost, which takes the
// credits back as a full refund would.
func reversedAmount(p *whop.Payment) int64 {
	if disputeLost(p) {
		return p.Total
	}
	return p.RefundedAmount
}

// disputeLost reports a chargeback or resolution decided for the buyer.
func disputeLost(p *whop.Payment) bool {
	return p.Substatus == whop.SubstatusDisputeLost || p.Substatus == whop.SubstatusResolutionLost
}

// disputeOpen reports a dispute, warning or resolution case not yet
// decided: a payment in one is not fulfilled until it is won or closed
// (the reconciler sees it again when Whop updates it).
func disputeOpen(p *whop.Payment) bool {
	switch p.Substatus {
	case whop.SubstatusDisputeWarning, whop.SubstatusDisputeNeedsResponse, whop.SubstatusDisputeWarningNeedsResponse,
		whop.SubstatusResolutionNeedsResponse, whop.SubstatusDisputeUnderReview, whop.SubstatusDisputeWarningUnderReview,
		whop.SubstatusResolutionUnderReview, whop.SubstatusOpenDispute, whop.SubstatusOpenResolution:
		return true
	}
	return false
}

// reasonDisputed begins the reason mismatch gives for a disputed payment,
// which the buyer's return page words apart (refusedReason).
const reasonDisputed = "payment is disputed"

// reasonNotTheBuyer is why another user's payment on a buyer's checkout is
// refused (paid) or ignored (not paid).
const reasonNotTheBuyer = "payment user is not the purchase's user"

// mismatch says why a payment may not fulfil a purchase, or "".
func mismatch(p *whop.Payment, pur ledger.Purchase, companyID string) string {
	switch {
	case !p.IsPaid():
		return fmt.Sprintf("payment status is %q, not paid", p.Status)
	case p.UserID != pur.UserID:
		return reasonNotTheBuyer
	case string(p.Currency) != pur.Currency:
		return fmt.Sprintf("payment currency %q is not the purchase's %q", p.Currency, pur.Currency)
	case p.Total < pur.Price:
		return fmt.Sprintf("payment amount %d is below the price %d", p.Total, pur.Price)
	case p.CompanyID != companyID:
		return "payment belongs to another company"
	case p.CheckoutConfigurationID != pur.CheckoutID:
		return "payment is for another checkout configuration"
	case pur.Status != ledger.PurchasePaid && (disputeOpen(p) || disputeLost(p)):
		return fmt.Sprintf("%s (%s)", reasonDisputed, p.Substatus)
	}
	return ""
}

// reject records why payment p does not fulfil purchase pur, and whether
// p charged the purchase's buyer: paid, theirs and received by the app
// owner's company, so the money is in the owner's books while nothing was
// credited. When only pur's id is known, the buyer is not counted as
// charged.
func (s *core) reject(ctx context.Context, p *whop.Payment, pur ledger.Purchase, src Source, d *ledger.Delivery, reason string) (Outcome, error) {
	purchaseID := pur.ID
	charged := p.IsPaid() && p.CompanyID == s.cfg.CompanyID && pur.UserID != "" && p.UserID == pur.UserID
	err := s.store.RecordRejection(ctx, ledger.Rejection{PaymentID: p.ID, PurchaseID: purchaseID, Source: string(src), Reason: reason,
		BuyerCharged: charged}, d)
	if errors.Is(err, ledger.ErrDuplicateDelivery) {
		return Outcome{Duplicate: true}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	s.log.WarnContext(ctx, "payment not fulfilled", "payment_id", p.ID, "purchase_id", purchaseID, "source", string(src), "reason", reason)
	return Outcome{Rejected: reason}, nil
}

func (s *core) ignore(ctx context.Context, d *ledger.Delivery, why string) (Outcome, error) {
	if d != nil {
		err := s.store.RecordDelivery(ctx, *d, prefixIgnored+why)
		if errors.Is(err, ledger.ErrDuplicateDelivery) {
			return Outcome{Duplicate: true}, nil
		}
		if err != nil {
			return Outcome{}, err
		}
	}
	return Outcome{Ignored: why}, nil
}

// withPurchaseNames gives a payment with no metadata the names a payment
// for pur carries: the purchase, its experience, user and package, and for
// a top-up's purchase (whose checkout is its top-up) the top-up. Only for a
// payment known to be pur's: made under its top-up's key, or recorded as
// the one that paid it. Fulfilment's checks still hold the payment to pur.
func withPurchaseNames(p *whop.Payment, pur ledger.Purchase) *whop.Payment {
	q := *p
	q.Metadata = map[string]string{MetaPurchaseID: pur.ID, MetaExperienceID: pur.ExperienceID,
		MetaUserID: pur.UserID, MetaPackageID: pur.PackageID}
	if whop.ValidID(pur.CheckoutID, "tup_") {
		q.Metadata[MetaTopUpID] = pur.CheckoutID
	}
	return &q
}

// proportionUp is ceil(credits × part / whole), exact for any int64 inputs:
// a refund of part of a payment takes back that share of its credits,
// rounded up so a refund never leaves the member a fraction ahead.
func proportionUp(credits, part, whole int64) int64 {
	if part <= 0 || whole <= 0 || credits <= 0 {
		return 0
	}
	if part >= whole {
		return credits
	}
	hi, lo := bits.Mul64(uint64(credits), uint64(part))
	q, r := bits.Div64(hi, lo, uint64(whole)) // hi < whole because part < whole
	if r != 0 {
		q++
	}
	return int64(q)
}
