package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// RefundState summarizes how much of a payment went back to the buyer.
type RefundState string

// Refund states, from the refunded amount (which every generation reports).
const (
	RefundNone    RefundState = "none"
	RefundPartial RefundState = "partial"
	RefundFull    RefundState = "full"
)

// PaymentLookup is a payment as a company's admins see it: Whop's payment,
// normalized, with what Creditkit knows about it.
type PaymentLookup struct {
	Payment *whop.Payment
	// Unreported names the fields the configured generation does not carry.
	Unreported  map[string]bool
	RefundState RefundState
	// CanRefund says whether the look-up may offer a refund: only to the
	// app owner's admins (see RefundPayment), and only when Whop's own
	// answer says so where the generation reports it, else when paid, not
	// yet refunded and not disputed.
	CanRefund bool
	// OwnerRefunds is true for a creator looking at a payment the owner's
	// admins could refund: the look-up says who can, instead of offering it.
	OwnerRefunds bool
	Purchase     *ledger.Purchase // the credit purchase it paid for, if any
	// Attempts are the states kept of the purchase's payments that did not
	// (or not yet) pay it, newest first: why an unpaid purchase reads
	// processing or failed, whichever payment is looked up.
	Attempts []ledger.PaymentAttempt
	Share    *ledger.RevenueShare
	Disputes []ledger.Dispute
	// Refusals are why the app refused to credit the payment, oldest
	// first: a payment that did not match its purchase, or was disputed
	// before it was credited (payment_rejections).
	Refusals []ledger.Rejection
}

// Errors of the look-up and refund.
var (
	// ErrPaymentNotFound is the answer both for a payment Whop does not know
	// and for one that is not this company's, so a look-up cannot be used
	// to learn about other companies' payments.
	ErrPaymentNotFound = errors.New("billing: no such payment for this company")
	// ErrNotRefundable means the payment cannot be refunded (any more).
	ErrNotRefundable = errors.New("billing: the payment cannot be refunded")
	// ErrRefundOwnerOnly means a creator's admin asked to refund: in-app
	// payments are received by the app owner's company, so only its admins
	// may give the money back.
	ErrRefundOwnerOnly = errors.New("billing: only the app owner's admins can refund payments")
)

// PaymentsAPI is the generation payment look-ups use.
func (s MoneyOut) PaymentsAPI() whop.PaymentsAPI { return s.cfg.PaymentsAPI }

// LookupPayment fetches a payment from Whop through the configured API
// generation and returns it if it belongs to companyID, whose admin userID
// must be. What our books say about it is a reporting read (the replica,
// when there is one).
func (s MoneyOut) LookupPayment(ctx context.Context, userID, companyID, paymentID string) (PaymentLookup, error) {
	return s.lookupPayment(ctx, userID, companyID, paymentID, false)
}

// lookupPayment is LookupPayment, reading our books from the primary when
// primary is set (a refund, which decides money, asks so).
func (s *core) lookupPayment(ctx context.Context, userID, companyID, paymentID string, primary bool) (PaymentLookup, error) {
	if err := s.companyAdmin(ctx, userID, companyID); err != nil {
		return PaymentLookup{}, err
	}
	paymentID = strings.TrimSpace(paymentID)
	if !whop.ValidID(paymentID, whop.PrefixPayment) {
		return PaymentLookup{}, &FieldError{Field: "payment_id", Message: "A payment id is pay_ followed by letters and digits (the receipt id)."}
	}
	p, err := s.whop.GetPaymentVia(ctx, s.cfg.PaymentsAPI, paymentID)
	if errors.Is(err, whop.ErrNotFound) {
		return PaymentLookup{}, ErrPaymentNotFound
	}
	if err != nil {
		return PaymentLookup{}, fmt.Errorf("billing: look up payment: %w", err)
	}
	if err := checkPayment(p); err != nil { // its ids are looked up in our tables
		return PaymentLookup{}, err
	}
	rows, err := s.paymentRows(ctx, p, primary)
	if err != nil {
		return PaymentLookup{}, err
	}
	pur := rows.Purchase
	if !s.belongs(p, pur, companyID) {
		return PaymentLookup{}, ErrPaymentNotFound
	}
	out := PaymentLookup{Payment: p, Unreported: whop.Unreported(p.API), RefundState: refundState(p), Purchase: pur,
		Attempts: rows.Attempts, Share: rows.Share, Disputes: rows.Disputes, Refusals: rows.Refusals}
	refundable := p.IsPaid() && p.RefundedAmount < p.Total
	if out.Unreported[whop.FieldRefundable] {
		refundable = refundable && p.RefundedAmount == 0 && !p.IsDisputed()
	} else {
		refundable = refundable && p.Refundable
	}
	out.CanRefund = refundable && companyID == s.cfg.CompanyID
	out.OwnerRefunds = refundable && companyID != s.cfg.CompanyID
	return out, nil
}

// paymentBooks is what our books say about a payment.
type paymentBooks struct {
	Purchase *ledger.Purchase
	Attempts []ledger.PaymentAttempt
	Share    *ledger.RevenueShare
	Disputes []ledger.Dispute
	Refusals []ledger.Rejection
}

// paymentRows reads our books about p: from the primary when primary is
// set, else as a reporting read. A replica may not yet have replayed a
// purchase fulfilled a moment ago, so when Whop's payment names one of
// our purchases and the replica does not show it fulfilled, the primary
// is asked too: a look-up never denies or understates a payment just made.
func (s *core) paymentRows(ctx context.Context, p *whop.Payment, primary bool) (paymentBooks, error) {
	var rows paymentBooks
	read := func(st *ledger.Store) (err error) {
		rows, err = s.readPaymentRows(ctx, st, p)
		return err
	}
	if primary {
		return rows, read(s.store)
	}
	served, err := s.reports.Read(ctx, read)
	if err != nil {
		return rows, err
	}
	ours := p.Metadata[MetaPurchaseID] != ""
	if served.Source == ledger.SourceReplica && ours && (rows.Purchase == nil || rows.Purchase.PaymentID != p.ID) {
		return rows, read(s.store)
	}
	return rows, nil
}

func (s *core) readPaymentRows(ctx context.Context, st *ledger.Store, p *whop.Payment) (paymentBooks, error) {
	var rows paymentBooks
	pur, err := purchaseOf(ctx, st, p)
	if err != nil {
		return rows, err
	}
	rows.Purchase = pur
	if rows.Disputes, err = st.DisputesForPayment(ctx, p.ID); err != nil {
		return rows, err
	}
	if rows.Refusals, err = st.Rejections(ctx, p.ID); err != nil {
		return rows, err
	}
	if pur != nil {
		if rows.Attempts, err = st.PaymentAttempts(ctx, pur.ID); err != nil {
			return rows, err
		}
		sh, err := st.RevenueShareByPayment(ctx, p.ID)
		switch {
		case err == nil:
			rows.Share = &sh
		case !errors.Is(err, ledger.ErrNotFound):
			return rows, err
		}
	}
	return rows, nil
}

// purchaseOf finds the credit purchase a payment is for: by the payment id
// once fulfilled, else by its checkout configuration (every generation
// names it) or the purchase id in its metadata, as long as no other payment
// has fulfilled that purchase.
func purchaseOf(ctx context.Context, st *ledger.Store, p *whop.Payment) (*ledger.Purchase, error) {
	pur, err := st.PurchaseByPayment(ctx, p.ID)
	if err == nil {
		return &pur, nil
	}
	if !errors.Is(err, ledger.ErrNotFound) {
		return nil, err
	}
	if id := p.CheckoutConfigurationID; id != "" {
		if pur, err := unclaimed(st.PurchaseByCheckout(ctx, id)); pur != nil || err != nil {
			return pur, err
		}
	}
	if id := p.Metadata[MetaPurchaseID]; id != "" {
		return unclaimed(st.Purchase(ctx, id))
	}
	return nil, nil
}

// unclaimed keeps a purchase found for a payment only while no payment
// has fulfilled it; a missing purchase is no error.
func unclaimed(pur ledger.Purchase, err error) (*ledger.Purchase, error) {
	switch {
	case err == nil && pur.PaymentID == "":
		return &pur, nil
	case err != nil && !errors.Is(err, ledger.ErrNotFound):
		return nil, err
	}
	return nil, nil
}

// belongs decides who may see a payment. In-app payments are received by
// the app owner's company, so its admins see every payment of their own
// company; a creator's payment is one of our credit purchases made in that
// creator's experience (and received by the owner, so a look-alike payment
// of some other seller naming our purchase in its metadata does not count).
func (s *core) belongs(p *whop.Payment, pur *ledger.Purchase, companyID string) bool {
	if companyID == s.cfg.CompanyID {
		return p.CompanyID == s.cfg.CompanyID || (p.CompanyID == "" && pur != nil)
	}
	receivedByOwner := p.CompanyID == "" || p.CompanyID == s.cfg.CompanyID
	return receivedByOwner && pur != nil && pur.CompanyID == companyID
}

func refundState(p *whop.Payment) RefundState {
	switch {
	case p.RefundedAmount <= 0:
		return RefundNone
	case p.RefundedAmount >= p.Total:
		return RefundFull
	}
	return RefundPartial
}
