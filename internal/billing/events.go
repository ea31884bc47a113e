package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// DeliveryKind is what became of a webhook delivery, for the caller to act
// on (the edge logs a repeat quietly); Delivered.Outcome words it.
type DeliveryKind string

// The kinds of delivery outcome.
const (
	// Applied: the event's effect (possibly none: "no change") and the
	// delivery record were committed together.
	Applied DeliveryKind = "applied"
	// Duplicate: the delivery was handled before; nothing was done now.
	Duplicate DeliveryKind = "duplicate"
	// Refused: the app will not act on what it holds; recorded with the
	// reason, and answered as handled, since Whop sending it again cannot
	// make it any better.
	Refused DeliveryKind = "refused"
	// Rejected: a payment the app refused to fulfil (FulfilPayment's
	// checks), recorded with the reason.
	Rejected DeliveryKind = "rejected"
	// Ignored: an event the app does not act on, recorded as seen.
	Ignored DeliveryKind = "ignored"
)

// The outcome texts Whop's dashboard shows (the webhook's reply) and the
// deliveries table keeps, by kind.
const (
	outcomeDuplicate = "duplicate"
	prefixRefused    = "refused: "
	prefixRejected   = "rejected: "
	prefixIgnored    = "ignored: "
)

// Delivered is what Deliver did with a delivery.
type Delivered struct {
	Kind DeliveryKind
	// Type is the event's type, once the body was decoded ("" for a repeat
	// answered before decoding, or a body that is no event).
	Type string
	// Outcome says what happened in words: "credited 100, took back 0",
	// "duplicate", "refused: <reason>", …
	Outcome string
	// Granted is the credits a premium period was granted now, if any, and
	// TakenBack those a premium payment's refund or lost dispute took back.
	Granted, TakenBack int64
}

// duplicate is the outcome of a delivery handled before.
func duplicate() Delivered { return Delivered{Kind: Duplicate, Outcome: outcomeDuplicate} }

// applied is the outcome of a delivery whose effect was committed.
func applied(outcome string) Delivered { return Delivered{Kind: Applied, Outcome: outcome} }

// Deliver applies one webhook delivery whose signature the caller verified,
// body and all: the one call the webhook handler makes. It returns without
// an error only once the delivery's effect and its record are committed
// together, so the caller may answer 2xx; an error means "answer 5xx"
// (Postgres or Whop could not be reached, and a redelivery may succeed).
// The body is parsed only when the delivery is not a known repeat.
func (s Deliveries) Deliver(ctx context.Context, del whop.Delivery, body []byte) (Delivered, error) {
	var typ string
	out, err := s.handleDelivery(ctx, del, func() (*whop.Event, error) {
		ev, err := del.Decode(body)
		if ev != nil {
			typ = ev.Type
		}
		return ev, err
	})
	if err != nil {
		return Delivered{}, err
	}
	out.Type = typ
	return out, nil
}

// handleDelivery applies one authenticated webhook delivery. It returns nil
// only once its effect and the delivery record are committed together, so
// the caller may answer 2xx; a repeat delivery does nothing and returns nil.
// Whop delivers at least once, so repeats are normal traffic: a repeat this
// process recorded ends before decode (which parses the body) is called,
// and any other ends at the first write, which fails on the delivery's id
// and writes nothing. Before a path that asks Whop first, one indexed read
// tells a repeat; a payment's success, the hot path, asks nothing of Whop
// and is settled in one statement that also records the delivery (see
// fulfil). A delivery whose content the app will not act on (a body that
// is no event, data of an unexpected shape, ids that are not ids) is
// refused: recorded with the reason and answered as handled, because
// retrying cannot change it. An error means "answer 5xx": Postgres or Whop
// could not be reached, and Whop delivering again may succeed.
func (s *core) handleDelivery(ctx context.Context, del whop.Delivery, decode func() (*whop.Event, error)) (Delivered, error) {
	id, idProblem := deliveryKey(del.ID)
	if s.seen.has(id) {
		return duplicate(), nil
	}
	d := &ledger.Delivery{ID: id, Scheme: string(del.Scheme)}
	ev, err := decode()
	switch {
	case errors.Is(err, whop.ErrMalformedEvent):
		return s.done(id)(s.refuse(ctx, d, malformedf("the body is not a Whop event: %s", err.Error())))
	case err != nil:
		return Delivered{}, err
	}
	ev.ID = id
	if idProblem != "" {
		d.Type, d.CompanyID = ev.Type, ev.CompanyID
		return s.done(id)(s.refuse(ctx, d, malformedf("%s", idProblem)))
	}
	if !paymentSucceeded(ev.Type) {
		// Refunds, disputes and memberships ask Whop before they write.
		seen, err := s.store.DeliverySeen(ctx, id)
		if err != nil {
			return Delivered{}, err
		}
		if seen {
			s.seen.add(id)
			return duplicate(), nil
		}
	}
	return s.done(id)(s.handleEvent(ctx, ev))
}

func paymentSucceeded(typ string) bool {
	return typ == whop.EventPaymentSucceeded || typ == whop.EventAppPaymentSucceeded
}

// done marks a delivery id seen once its outcome is committed: recorded for
// good, so this replica answers its repeats without a query.
func (s *core) done(id string) func(Delivered, error) (Delivered, error) {
	return func(outcome Delivered, err error) (Delivered, error) {
		if err == nil {
			s.seen.add(id)
		}
		return outcome, err
	}
}

// handleEvent applies an event, or refuses it: for what its data holds
// (MalformedError), or when Postgres refuses to store what it holds, which
// the checks should have caught but, the same data failing the same way
// every time, must not make Whop retry for nothing.
func (s *core) handleEvent(ctx context.Context, ev *whop.Event) (Delivered, error) {
	d := &ledger.Delivery{ID: ev.ID, Type: ev.Type, Scheme: string(ev.Scheme), CompanyID: ev.CompanyID}
	if err := checkEnvelope(ev); err != nil {
		return s.refuse(ctx, d, err)
	}
	outcome, err := s.applyEvent(ctx, ev, d)
	var bad *MalformedError
	switch {
	case errors.As(err, &bad):
		return s.refuse(ctx, d, err)
	case ledger.IsDataError(err):
		s.log.ErrorContext(ctx, "webhook data refused by the database", "delivery_id", d.ID, "type", d.Type, "error", err.Error())
		return s.refuse(ctx, d, malformedf("its data could not be stored: %s", err.Error()))
	}
	return outcome, err
}

func (s *core) applyEvent(ctx context.Context, ev *whop.Event, d *ledger.Delivery) (Delivered, error) {
	switch ev.Type {
	case whop.EventPaymentSucceeded, whop.EventAppPaymentSucceeded:
		p, err := eventPayment(ev)
		if err != nil {
			return Delivered{}, err
		}
		d.ObjectID = p.ID
		if s.isPremiumPayment(p) {
			// It reads the membership from Whop first.
			if seen, err := s.seenBefore(ctx, d); err != nil || seen {
				return describe(Outcome{Duplicate: seen}, err)
			}
			return s.premiumPayment(ctx, p, d, 0)
		}
		return describe(s.fulfilPayment(ctx, p, FromWebhook, d))

	case whop.EventMembershipActivated, whop.EventMembershipDeactivated,
		whop.EventMembershipWentValid, whop.EventMembershipWentInvalid,
		whop.EventAppMembershipWentValid, whop.EventAppMembershipWentInvalid,
		whop.EventMembershipCancelAtPeriodEnd, whop.EventAppMembershipCancelAtPeriodEnd:
		return s.membershipEvent(ctx, ev, d)

	case whop.EventPaymentFailed, whop.EventAppPaymentFailed, whop.EventPaymentPending, whop.EventAppPaymentPending:
		p, err := eventPayment(ev)
		if err != nil {
			return Delivered{}, err
		}
		d.ObjectID = p.ID
		return s.paymentNotPaid(ctx, p, d)

	case whop.EventSetupIntentSucceeded: // a card saved for auto top-up (topup.go)
		return s.setupIntentEvent(ctx, ev, d)

	case whop.EventRefundCreated, whop.EventRefundUpdated:
		r, err := ev.Refund()
		if err != nil {
			return Delivered{}, unreadable(err)
		}
		d.ObjectID = r.ID
		if err := checkClaim("refund", r.ID, r.PaymentID, string(r.Status), ""); err != nil {
			return Delivered{}, err
		}
		// Refund events arrive in any order, possibly before the payment's
		// success: the payment as Whop holds it now is the truth, and
		// FulfilPayment applies both its success and its refunds.
		p, err := s.whop.GetPayment(ctx, r.PaymentID)
		if errors.Is(err, whop.ErrNotFound) {
			// A refund is of a payment Whop made long before; one Whop does
			// not know is no payment of the app's. Answering 500 had Whop
			// retry it for nothing, each try logged as the app's error.
			// Were it a payment of ours after all, the reconciler lists its
			// refund with the payment.
			return describe(s.ignore(ctx, d, fmt.Sprintf("refund %s is of payment %s, which Whop does not know", r.ID, r.PaymentID)))
		}
		if err != nil {
			return Delivered{}, fmt.Errorf("billing: refund %s: re-read payment: %w", r.ID, err)
		}
		if s.isPremiumPayment(p) {
			// A refund of premium takes back its period's credits.
			return s.premiumPayment(ctx, p, d, 0)
		}
		return describe(s.fulfilPayment(ctx, p, FromWebhook, d))

	case whop.EventDisputeCreated, whop.EventDisputeUpdated:
		dp, err := ev.Dispute()
		if err != nil {
			return Delivered{}, unreadable(err)
		}
		d.ObjectID = dp.ID
		if err := checkClaim("dispute", dp.ID, dp.PaymentID, dp.Status, dp.Reason); err != nil {
			return Delivered{}, err
		}
		if dp.Amount < 0 { // the disputes table holds none: refused here, not by its check
			return Delivered{}, malformedf("dispute %s amount %s %s is negative", dp.ID, money.FormatMajor(dp.Amount, dp.Currency), dp.Currency)
		}
		// A lost dispute takes the credits back like a full refund: apply
		// the payment as Whop holds it now before recording the delivery, so
		// a crash in between makes the redelivery do both again.
		if p, err := s.whop.GetPayment(ctx, dp.PaymentID); err == nil {
			if err := s.reverseDisputed(ctx, p); err != nil {
				return Delivered{}, fmt.Errorf("billing: dispute %s: %w", dp.ID, err)
			}
		} else if !errors.Is(err, whop.ErrNotFound) {
			return Delivered{}, fmt.Errorf("billing: dispute %s: re-read payment: %w", dp.ID, err)
		}
		// A late dispute.created does not reopen a dispute Whop since
		// decided (ledger.RecordDispute); within one stage, the event's time
		// orders the reports (the dispute carries none of its own; a legacy
		// delivery's is its attempt's, so none is passed).
		ignored, err := s.store.RecordDispute(ctx, ledger.Dispute{
			ID: dp.ID, PaymentID: dp.PaymentID, Amount: dp.Amount, Currency: string(dp.Currency),
			Status: dp.Status, Reason: dp.Reason, ReportedAt: ev.CreatedAt,
		}, d)
		switch {
		case errors.Is(err, ledger.ErrDuplicateDelivery):
			return duplicate(), nil
		case err != nil:
			return Delivered{}, err
		case ignored != "":
			return Delivered{Kind: Ignored, Outcome: prefixIgnored + ignored}, nil
		}
		return applied("dispute " + dp.Status), nil
	}
	if err := s.store.RecordDelivery(ctx, *d, "ignored: unhandled type"); err != nil && !errors.Is(err, ledger.ErrDuplicateDelivery) {
		return Delivered{}, err
	}
	return Delivered{Kind: Ignored, Outcome: "ignored"}, nil
}

// reverseDisputed applies a disputed payment as Whop holds it now, with no
// delivery: a lost dispute takes back a purchase's credits, or a premium
// period's. A premium payment whose membership Whop sends unusable is
// left to the reconciler with a warning: the dispute is still recorded.
func (s *core) reverseDisputed(ctx context.Context, p *whop.Payment) error {
	if !s.isPremiumPayment(p) {
		_, err := s.fulfilPayment(ctx, p, FromWebhook, nil)
		return err
	}
	_, err := s.premiumPayment(ctx, p, nil, 0)
	var bad *MalformedError
	switch {
	case errors.As(err, &bad):
		s.log.WarnContext(ctx, "disputed premium payment's membership is unusable: its credits are left to the reconciler",
			"payment_id", p.ID, "membership_id", p.MembershipID, "reason", bad.Reason)
		return nil
	case errors.Is(err, whop.ErrNotFound):
		// The dispute is recorded all the same; a 500 would hold it back
		// for every retry of a membership Whop does not show.
		s.log.WarnContext(ctx, "disputed premium payment's membership is not found at Whop: its credits are left to the reconciler",
			"payment_id", p.ID, "membership_id", p.MembershipID)
		return nil
	}
	return err
}

// eventPayment decodes and checks a payment event's data.
func eventPayment(ev *whop.Event) (*whop.Payment, error) {
	p, err := ev.Payment()
	if err != nil {
		return nil, unreadable(err)
	}
	if err := checkPayment(p); err != nil {
		return nil, err
	}
	return p, nil
}

// unreadable is the refusal of data that did not decode.
func unreadable(err error) error {
	return malformedf("its data is unreadable: %s", err.Error())
}

// paymentNotPaid records a failed or pending payment of the purchase's
// buyer on the purchase, as its delivery's type says. A failure never
// undoes a fulfilment: a purchase once paid stays paid.
func (s *core) paymentNotPaid(ctx context.Context, p *whop.Payment, d *ledger.Delivery) (Delivered, error) {
	return s.markUnpaid(ctx, p, d.Type == whop.EventPaymentFailed || d.Type == whop.EventAppPaymentFailed, d)
}

// markUnpaid records a payment that is not paid on its purchase: failed,
// or still under way; with the delivery, when a webhook brought it. Another
// user's payment, or one naming no purchase of ours, changes nothing.
func (s *core) markUnpaid(ctx context.Context, p *whop.Payment, failed bool, d *ledger.Delivery) (Delivered, error) {
	purchaseID := p.Metadata[MetaPurchaseID]
	if purchaseID == "" {
		return describe(s.ignore(ctx, d, "not a Creditkit purchase"))
	}
	pur, err := s.store.Purchase(ctx, purchaseID)
	if errors.Is(err, ledger.ErrNotFound) {
		return describe(s.ignore(ctx, d, "metadata names an unknown purchase"))
	}
	if err != nil {
		return Delivered{}, err
	}
	if anotherUsers(p, pur) {
		// Another user's attempt on the buyer's checkout says nothing of
		// the buyer's own: their purchase is not failed by a card they did
		// not use. Nothing was paid, so nothing goes in the books either.
		return describe(s.ignore(ctx, d, reasonNotTheBuyer))
	}
	st := ledger.PaymentState{Status: ledger.PurchaseProcessing, Buyer: buyerName(p, pur), PaymentID: p.ID, At: p.UpdatedAt}
	if failed {
		st.Status, st.Reason = ledger.PurchaseFailed, cmp.Or(p.FailureMessage, "payment failed")
	}
	marked, err := s.store.MarkPurchase(ctx, purchaseID, st, d)
	switch {
	case errors.Is(err, ledger.ErrDuplicateDelivery):
		return duplicate(), nil
	case err != nil:
		return Delivered{}, err
	case marked.Ignored != "":
		return Delivered{Kind: Ignored, Outcome: prefixIgnored + marked.Ignored}, nil
	}
	// The purchase's status as derived from all its payments: a failure
	// can leave it processing while another payment is under way.
	return applied("purchase " + string(marked.Purchase.Status)), nil
}

func describe(o Outcome, err error) (Delivered, error) {
	switch {
	case err != nil:
		return Delivered{}, err
	case o.Duplicate:
		return duplicate(), nil
	case o.Rejected != "":
		return Delivered{Kind: Rejected, Outcome: prefixRejected + o.Rejected}, nil
	case o.Ignored != "":
		return Delivered{Kind: Ignored, Outcome: prefixIgnored + o.Ignored}, nil
	case o.Credited > 0 || o.TakenBack > 0:
		return applied(fmt.Sprintf("credited %d, took back %d", o.Credited, o.TakenBack)), nil
	}
	return applied("no change"), nil
}

// anotherUsers reports whether payment p was someone else's than the
// buyer of pur: a checkout's link can be passed on. A payment naming no
// user (Whop's user may be null) counts as the buyer's while it is not
// paid, so a decline still reaches them; a paid one fulfils only when it
// names the buyer (mismatch), so unnamed it is refused as not theirs.
func anotherUsers(p *whop.Payment, pur ledger.Purchase) bool {
	return p.UserID != pur.UserID && (p.UserID != "" || p.IsPaid())
}

// buyerName is the payment's username when the payment is the purchase's
// buyer's own (anyone's payment can carry a purchase id in its metadata)
// and it has a Whop username's shape. It only names the member on the
// creator's receipts, so one that is not a username (a NUL Postgres
// would refuse, a direction override that would disguise it on screen) is
// left out rather than the payment refused: the credits matter, the name
// falls back to the user id.
func buyerName(p *whop.Payment, pur ledger.Purchase) string {
	if p.UserID != pur.UserID {
		return ""
	}
	return usableUsername(p)
}

// usableUsername is the payment's username when it has a Whop username's
// shape, else "" (see buyerName).
func usableUsername(p *whop.Payment) string {
	if !isToken(p.Username, maxToken) {
		return ""
	}
	return p.Username
}
