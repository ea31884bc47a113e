package whopsim

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Trigger makes one of Whop's events happen for real, the way `stripe
// trigger` does for Stripe: the state changes, the API answers accordingly
// and the webhooks go out signed, with the retry schedule. What the event
// needs first (a paid payment to refund, a membership to end) is made too,
// and its own events are sent before it.

// TriggerEvent is an event Trigger can make happen, with what it does.
type TriggerEvent struct {
	Name string `json:"name"`
	Does string `json:"does"`
}

// TriggerEvents lists the events Trigger knows, in the order a help text
// shows them.
var TriggerEvents = []TriggerEvent{
	{"payment.succeeded", "the user pays a one-time charge in the experience (4.99 USD unless --amount); with --payment, that pending payment clears"},
	{"payment.failed", "the user's card is declined for that charge; with --payment, that pending payment fails"},
	{"payment.pending", "the user starts a bank payment for that charge, pending until payment.succeeded or payment.failed --payment ends it"},
	{"refund.created", "a paid payment is refunded, in full or --amount of it: refund.created, refund.updated"},
	{"dispute.created", "the user's bank opens a chargeback on a paid payment"},
	{"dispute.won", "a chargeback is decided for the seller (dispute.created first if none is open)"},
	{"dispute.lost", "a chargeback is decided for the buyer; the seller's balance pays it"},
	{"membership.activated", "the user buys a plan (the premium plan unless --plan): payment.succeeded, membership.activated"},
	{"membership.deactivated", "the user's membership ends now (made first if the user has none)"},
}

// TriggerRequest says which event to make happen and to whom. Every field
// but Event is optional.
type TriggerRequest struct {
	Event string `json:"event"`
	// User is a user id or @username; empty is the user selected on the
	// parent page.
	User string `json:"user"`
	// ExperienceID is where a payment is made (its metadata names it);
	// empty is the creator's experience.
	ExperienceID string `json:"experience_id"`
	// Amount is a charge, or the part of a payment to refund, in major
	// units of Currency (default usd).
	Amount   json.Number `json:"amount,omitempty"`
	Currency string      `json:"currency"`
	// PaymentID refunds or disputes this payment instead of a new one, or
	// is the pending payment payment.succeeded or payment.failed ends.
	PaymentID string `json:"payment_id"`
	// MembershipID ends this membership; PlanID is the plan a membership
	// event buys or ends (default the premium plan).
	MembershipID string `json:"membership_id"`
	PlanID       string `json:"plan_id"`
	// Reason is a dispute's reason (default fraudulent).
	Reason string `json:"reason"`
	// Metadata is added to a new payment's checkout configuration.
	Metadata map[string]string `json:"metadata"`
}

// EventRef names an event a trigger sent.
type EventRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// TriggerResult is what a trigger made: the records it touched and every
// event it sent, in order.
type TriggerResult struct {
	Event        string     `json:"event"`
	UserID       string     `json:"user_id"`
	PaymentID    string     `json:"payment_id,omitempty"`
	MembershipID string     `json:"membership_id,omitempty"`
	RefundID     string     `json:"refund_id,omitempty"`
	DisputeID    string     `json:"dispute_id,omitempty"`
	Events       []EventRef `json:"events"`
}

// defaultCharge is what a triggered payment costs unless told otherwise.
const defaultCharge = "4.99"

// Trigger makes req.Event happen in one change of state, then sends its
// webhooks.
func (s *Sim) Trigger(req TriggerRequest) (TriggerResult, error) {
	res := TriggerResult{Event: req.Event}
	if !slices.ContainsFunc(TriggerEvents, func(e TriggerEvent) bool { return e.Name == req.Event }) {
		return res, badRequest("unknown event %q: want one of %s", req.Event, triggerNames())
	}
	err := s.update(func(st *State) ([]*Event, error) {
		t := &trigger{s: s, st: st, req: req, res: &res}
		if err := t.run(); err != nil {
			return nil, err
		}
		return t.evs, nil
	})
	if err != nil {
		return TriggerResult{Event: req.Event}, err
	}
	return res, nil
}

func triggerNames() string {
	names := make([]string, len(TriggerEvents))
	for i, e := range TriggerEvents {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// trigger is one Trigger call in progress, inside update.
type trigger struct {
	s   *Sim
	st  *State
	req TriggerRequest
	res *TriggerResult
	evs []*Event
}

func (t *trigger) add(evs []*Event) {
	t.evs = append(t.evs, evs...)
	for _, ev := range evs {
		t.res.Events = append(t.res.Events, EventRef{ID: ev.ID, Type: ev.Type})
	}
}

func (t *trigger) run() error {
	u := t.st.Users[t.st.SelectedUser]
	if t.req.User != "" {
		if u = findUser(t.st, t.req.User); u == nil {
			return notFound("user", t.req.User)
		}
	}
	t.res.UserID = u.ID
	switch t.req.Event {
	case "payment.succeeded", "payment.failed":
		if t.req.PaymentID != "" {
			if t.req.Amount != "" {
				return badRequest("amount is a new payment's price; the pending payment %s keeps its own", t.req.PaymentID)
			}
			p, evs, err := t.s.settleLocked(t.st, t.req.PaymentID, t.req.Event == "payment.succeeded")
			if err == nil {
				t.res.PaymentID, t.res.UserID = p.ID, p.UserID
			}
			t.add(evs)
			return err
		}
		end := chargeDeclined
		if t.req.Event == "payment.succeeded" {
			end = chargePaid
		}
		_, err := t.charge(end, t.req.Amount)
		return err
	case "payment.pending":
		_, err := t.charge(chargePending, t.req.Amount)
		return err
	case "refund.created":
		if t.req.PaymentID == "" {
			// Check the refund against the charge it is to refund before
			// making that charge: a refusal must leave no payment behind
			// that no webhook announced.
			cur := cmp.Or(t.req.Currency, "usd")
			total, err := parseMajor(defaultCharge, cur)
			if err != nil {
				return err
			}
			if _, err := refundAmount(t.req.Amount, cur, total); err != nil {
				return err
			}
		}
		p, err := t.paidPayment()
		if err != nil {
			return err
		}
		amount, err := refundAmount(t.req.Amount, p.Currency, p.Total)
		if err != nil {
			return err
		}
		_, evs, err := t.s.refundLocked(t.st, p.ID, amount)
		if err == nil {
			t.res.RefundID = p.RefundIDs[len(p.RefundIDs)-1]
		}
		t.add(evs)
		return err
	case "dispute.created":
		_, err := t.openDispute()
		return err
	case "dispute.won", "dispute.lost":
		d, err := t.openDispute()
		if err != nil {
			return err
		}
		evs, err := t.s.updateDisputeLocked(t.st, d.ID, strings.TrimPrefix(t.req.Event, "dispute."))
		t.add(evs)
		return err
	case "membership.activated":
		_, err := t.buyPlan()
		return err
	case "membership.deactivated":
		m, err := t.validMembership()
		if err != nil {
			return err
		}
		_, evs, err := t.s.cancelMembershipLocked(t.st, m.ID, "immediate")
		t.add(evs)
		return err
	}
	return nil
}

// refundAmount reads the part of a payment of total to refund: 0 (all of
// it) when n is empty.
func refundAmount(n json.Number, currency string, total int64) (int64, error) {
	if n == "" {
		return 0, nil
	}
	amount, err := parseMajor(n, currency)
	if err != nil || amount <= 0 || amount > total {
		return 0, badRequest("amount must be more than 0 and at most %s %s", major(total, currency), currency)
	}
	return amount, nil
}

// chargeEnd is how a triggered charge ends: paid, declined, or left pending.
type chargeEnd int

const (
	chargePaid chargeEnd = iota
	chargeDeclined
	chargePending
)

// charge makes a one-time payment of price (default 4.99) in the
// experience, ended as end says.
func (t *trigger) charge(end chargeEnd, price json.Number) (*Payment, error) {
	exp := t.st.Experiences[t.s.seed.Creator.ExperienceID]
	if t.req.ExperienceID != "" {
		if exp = t.st.Experiences[t.req.ExperienceID]; exp == nil {
			return nil, notFound("experience", t.req.ExperienceID)
		}
	}
	currency := t.req.Currency
	if currency == "" {
		currency = "usd"
	}
	if price == "" {
		price = defaultCharge
	}
	// In-app purchases are received by the app owner's company, whichever
	// experience they are made in; the metadata says where.
	meta := map[string]any{"experience_id": exp.ID, "experience_company_id": exp.CompanyID,
		"user_id": t.res.UserID, "triggered_by": "whopsim"}
	for k, v := range t.req.Metadata {
		meta[k] = v
	}
	co, err := t.s.createCheckout(t.st, CheckoutRequest{Metadata: maps.Clone(meta), Plan: &InlinePlan{
		CompanyID: t.st.App.CompanyID, Currency: currency, InitialPrice: price, PlanType: "one_time"}})
	if err != nil {
		return nil, err
	}
	req := Purchase{CheckoutID: co.ID, UserID: t.res.UserID}
	var p *Payment
	var evs []*Event
	if end == chargePending {
		if _, p, _, err = t.s.startLocked(t.st, req); err == nil {
			evs = t.s.pendingLocked(t.st, p)
		}
	} else {
		_, p, evs, err = t.s.purchaseLocked(t.st, req, end == chargePaid)
	}
	if err == nil {
		t.res.PaymentID = p.ID
	}
	t.add(evs)
	return p, err
}

// paidPayment is the payment named by PaymentID, or a new paid one.
func (t *trigger) paidPayment() (*Payment, error) {
	if t.req.PaymentID == "" {
		// A refund's or dispute's --amount is not the price: the payment
		// is the usual charge, and the refund takes --amount of it.
		return t.charge(chargePaid, "")
	}
	p := t.st.Payments[t.req.PaymentID]
	if p == nil {
		return nil, notFound("payment", t.req.PaymentID)
	}
	t.res.PaymentID = p.ID
	return p, nil
}

// openDispute is the payment's open dispute, or a new one.
func (t *trigger) openDispute() (*Dispute, error) {
	p, err := t.paidPayment()
	if err != nil {
		return nil, err
	}
	for _, id := range slices.Backward(p.DisputeIDs) {
		if d := t.st.Disputes[id]; d.Status == "needs_response" || d.Status == "under_review" {
			t.res.DisputeID = d.ID
			return d, nil
		}
	}
	d, evs, err := t.s.disputeLocked(t.st, p.ID, t.req.Reason)
	if err == nil {
		t.res.DisputeID = d.ID
	}
	t.add(evs)
	return d, err
}

// plan is the plan a membership event is about.
func (t *trigger) plan() (*Plan, error) {
	id := t.req.PlanID
	if id == "" {
		id = t.s.seed.PremiumPlanID
	}
	p := t.st.Plans[id]
	if p == nil {
		return nil, notFound("plan", id)
	}
	if p.ProductID == "" && p.PlanType != "renewal" {
		return nil, badRequest("plan %s grants no membership (no product, not renewing)", p.ID)
	}
	return p, nil
}

// buyPlan pays for the plan as the user, which activates a membership.
func (t *trigger) buyPlan() (*Membership, error) {
	plan, err := t.plan()
	if err != nil {
		return nil, err
	}
	_, p, evs, err := t.s.purchaseLocked(t.st, Purchase{PlanID: plan.ID, UserID: t.res.UserID}, true)
	if err != nil {
		return nil, err
	}
	t.add(evs)
	t.res.PaymentID, t.res.MembershipID = p.ID, p.MembershipID
	return t.st.Memberships[p.MembershipID], nil
}

// validMembership is the membership named by MembershipID, else the
// user's valid one on the plan's product, else a new one.
func (t *trigger) validMembership() (*Membership, error) {
	if t.req.MembershipID != "" {
		m := t.st.Memberships[t.req.MembershipID]
		if m == nil {
			return nil, notFound("membership", t.req.MembershipID)
		}
		t.res.MembershipID, t.res.UserID = m.ID, m.UserID
		return m, nil
	}
	plan, err := t.plan()
	if err != nil {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(t.st.Memberships))
	for _, id := range ids {
		m := t.st.Memberships[id]
		if m.UserID == t.res.UserID && m.Valid() && (m.PlanID == plan.ID || (plan.ProductID != "" && m.ProductID == plan.ProductID)) {
			t.res.MembershipID = m.ID
			return m, nil
		}
	}
	return t.buyPlan()
}
