package whopsim

import (
	"maps"
	"net/http"
	"slices"
)

// The after-sale events a creator or a bank causes: refunds, disputes and
// memberships ending. The API and the control API both come through here.

// Refund refunds a payment: amount in minor units, or 0 for all of it. It
// sends refund.created (pending) and refund.updated (succeeded); afterwards
// the payment stays paid, with substatus refunded or partially_refunded,
// refunded_amount set and refundable false. A second refund is refused, and
// so is a refund of a payment with a dispute open or lost.
func (s *Sim) Refund(paymentID string, amount int64) error {
	return s.update(func(st *State) ([]*Event, error) {
		_, evs, err := s.refundLocked(st, paymentID, amount)
		return evs, err
	})
}

func (s *Sim) refundLocked(st *State, paymentID string, amount int64) (*Payment, []*Event, error) {
	p := st.Payments[paymentID]
	if p == nil {
		return nil, nil, notFound("payment", paymentID)
	}
	if open, lost := p.disputes(st); open != nil {
		return nil, nil, badRequest("payment %s is not refundable: dispute %s is open (%s)", p.ID, open.ID, open.Status)
	} else if lost > 0 {
		return nil, nil, badRequest("payment %s is not refundable: a lost dispute took %s back", p.ID, major(lost, p.Currency))
	}
	if !p.refundable(st) {
		return nil, nil, badRequest("payment %s is not refundable", p.ID)
	}
	if amount == 0 {
		amount = p.Total
	}
	if amount < 0 || amount > p.Total {
		return nil, nil, badRequest("partial_amount must be more than 0 and at most %s", major(p.Total, p.Currency))
	}
	now := s.clock.Now()
	r := &Refund{ID: s.ids.id("rf"), PaymentID: p.ID, Amount: amount, Currency: p.Currency,
		Status: "pending", CreatedAt: now, UpdatedAt: now}
	st.Refunds[r.ID] = r
	p.RefundIDs = append(p.RefundIDs, r.ID)
	p.UpdatedAt = now
	created := s.newEvent(st, "refund.created", p.CompanyID, v1Refund(st, r), legacyRefund(st, r))

	// The sandbox settles at once; Whop settles a little later, which the
	// two events already model for a receiver.
	r.Status = "succeeded"
	p.RefundedAmount = amount
	p.RefundedAt = &now
	p.Substatus = "refunded"
	if amount < p.Total {
		p.Substatus = "partially_refunded"
	}
	if c := st.Companies[p.CompanyID]; c != nil {
		st.Ledgers[c.LedgerID].add(p.Currency, -amount)
	}
	updated := s.newEvent(st, "refund.updated", p.CompanyID, v1Refund(st, r), legacyRefund(st, r))
	return p, []*Event{created, updated}, nil
}

func v1Refund(st *State, r *Refund) obj {
	o := v1RefundRef(r)
	o["updated_at"] = iso(r.UpdatedAt)
	o["provider"] = "stripe"
	o["payment"] = v1Payment(st, st.Payments[r.PaymentID])
	return o
}

func v1Dispute(st *State, d *Dispute) obj {
	o := v1DisputeRef(d)
	o["created_at"] = iso(d.CreatedAt)
	o["payment"] = v1Payment(st, st.Payments[d.PaymentID])
	return o
}

// Dispute opens a chargeback on a paid payment for what is left of it after
// refunds and lost disputes, sends dispute.created and returns the
// dispute's id. A payment has one open dispute at a time.
func (s *Sim) Dispute(paymentID, reason string) (string, error) {
	var id string
	err := s.update(func(st *State) ([]*Event, error) {
		d, evs, err := s.disputeLocked(st, paymentID, reason)
		if d != nil {
			id = d.ID
		}
		return evs, err
	})
	return id, err
}

func (s *Sim) disputeLocked(st *State, paymentID, reason string) (*Dispute, []*Event, error) {
	p := st.Payments[paymentID]
	if p == nil {
		return nil, nil, notFound("payment", paymentID)
	}
	open, lost := p.disputes(st)
	if open != nil {
		return nil, nil, badRequest("payment %s already has an open dispute, %s (%s); decide it first", p.ID, open.ID, open.Status)
	}
	left := p.Total - p.RefundedAmount - lost
	if p.Status != "paid" || left <= 0 {
		return nil, nil, badRequest("payment %s has nothing left to dispute", p.ID)
	}
	if reason == "" {
		reason = "fraudulent"
	}
	now := s.clock.Now()
	d := &Dispute{ID: s.ids.id("dspt"), PaymentID: p.ID, Amount: left,
		Currency: p.Currency, Status: "needs_response", Reason: reason, CreatedAt: now, UpdatedAt: now}
	st.Disputes[d.ID] = d
	p.DisputeIDs = append(p.DisputeIDs, d.ID)
	p.Substatus, p.UpdatedAt = "dispute_needs_response", now
	return d, []*Event{s.newEvent(st, "dispute.created", p.CompanyID, v1Dispute(st, d), legacyDispute(st, d))}, nil
}

// disputeStatuses maps a dispute's status to the payment's substatus.
var disputeStatuses = map[string]string{
	"needs_response": "dispute_needs_response",
	"under_review":   "dispute_under_review",
	"won":            "dispute_won",
	"lost":           "dispute_lost",
	"closed":         "dispute_closed",
}

// UpdateDispute moves a dispute to status (needs_response, under_review,
// won, lost, closed) and sends dispute.updated. A lost dispute takes the
// amount from the seller's ledger. Won, lost and closed are final: a
// decided dispute is not decided again.
func (s *Sim) UpdateDispute(disputeID, status string) error {
	return s.update(func(st *State) ([]*Event, error) { return s.updateDisputeLocked(st, disputeID, status) })
}

func (s *Sim) updateDisputeLocked(st *State, disputeID, status string) ([]*Event, error) {
	d := st.Disputes[disputeID]
	if d == nil {
		return nil, notFound("dispute", disputeID)
	}
	sub, ok := disputeStatuses[status]
	if !ok {
		return nil, badRequest("dispute status %q: want needs_response, under_review, won, lost or closed", status)
	}
	if d.final() {
		return nil, badRequest("dispute %s is already %s; won, lost and closed are final", d.ID, d.Status)
	}
	p := st.Payments[d.PaymentID]
	now := s.clock.Now()
	if status == "lost" {
		if c := st.Companies[p.CompanyID]; c != nil {
			st.Ledgers[c.LedgerID].add(d.Currency, -d.Amount)
		}
	}
	d.Status, d.UpdatedAt = status, now
	p.Substatus, p.UpdatedAt = sub, now
	return []*Event{s.newEvent(st, "dispute.updated", p.CompanyID, v1Dispute(st, d), legacyDispute(st, d))}, nil
}

// DeactivateMembership ends a membership now (status canceled) and sends
// membership.deactivated; the user loses the access it granted.
func (s *Sim) DeactivateMembership(id string) error {
	return s.update(func(st *State) ([]*Event, error) {
		_, evs, err := s.cancelMembershipLocked(st, id, "immediate")
		return evs, err
	})
}

// cancelMembershipLocked cancels now ("immediate") or at the end of the
// period ("at_period_end"), as POST /memberships/{id}/cancel does.
func (s *Sim) cancelMembershipLocked(st *State, id, mode string) (*Membership, []*Event, error) {
	m := st.Memberships[id]
	if m == nil {
		return nil, nil, notFound("membership", id)
	}
	if !m.Valid() {
		return nil, nil, badRequest("membership %s is already %s", m.ID, m.Status)
	}
	now := s.clock.Now()
	m.UpdatedAt = now
	switch mode {
	case "", "immediate":
		m.Status, m.CanceledAt = "canceled", &now
		return m, []*Event{s.newEvent(st, "membership.deactivated", m.CompanyID, v1Membership(st, m), legacyMembership(m))}, nil
	case "at_period_end":
		m.CancelAtPeriodEnd, m.CanceledAt = true, &now
		if m.Status == "active" {
			m.Status = "canceling"
		}
		return m, []*Event{s.newEvent(st, "membership.cancel_at_period_end_changed", m.CompanyID,
			v1Membership(st, m), legacyMembership(m))}, nil
	}
	return nil, nil, &APIError{Status: http.StatusBadRequest, Code: "invalid_request",
		Message: "cancellation_mode must be immediate or at_period_end"}
}

// accessLevel answers an access check: admin for a company's admins (on the
// company and everything in it), customer for a user holding a valid
// membership to the resource (or seeded direct access to an experience),
// no_access otherwise. ok is false when the resource does not exist.
func accessLevel(st *State, userID, resource string) (level string, ok bool) {
	var company string
	var products []string
	direct := false
	switch {
	case st.Companies[resource] != nil:
		company = resource
	case st.Experiences[resource] != nil:
		e := st.Experiences[resource]
		company, products = e.CompanyID, e.ProductIDs
		direct = slices.Contains(e.CustomerIDs, userID)
	case st.Products[resource] != nil:
		company, products = st.Products[resource].CompanyID, []string{resource}
	default:
		return "", false
	}
	if c := st.Companies[company]; c != nil && slices.Contains(c.AdminIDs, userID) {
		return "admin", true
	}
	if direct {
		return "customer", true
	}
	for _, m := range st.Memberships {
		if m.UserID != userID || !m.Valid() {
			continue
		}
		if (resource == company && m.CompanyID == company) || slices.Contains(products, m.ProductID) {
			return "customer", true
		}
	}
	return "no_access", true
}

// RenewMembership renews a membership of a renewal plan as Whop does when
// its billing period ends, brought forward to now so a test need not wait
// a month: the running period ends now and the next one starts, a paid
// payment of the plan's renewal price is recorded (billing reason
// subscription_cycle, the membership's metadata), the seller's ledger is
// credited and payment.succeeded is sent, the renewal's only event. It
// returns the payment's id. A membership that is not valid, is set to end
// with its period, or has no renewal period is not renewed.
func (s *Sim) RenewMembership(id string) (string, error) {
	var paymentID string
	err := s.update(func(st *State) ([]*Event, error) {
		p, evs, err := s.renewLocked(st, id)
		if p != nil {
			paymentID = p.ID
		}
		return evs, err
	})
	return paymentID, err
}

func (s *Sim) renewLocked(st *State, id string) (*Payment, []*Event, error) {
	m := st.Memberships[id]
	if m == nil {
		return nil, nil, notFound("membership", id)
	}
	plan := st.Plans[m.PlanID]
	switch {
	case !m.Valid():
		return nil, nil, badRequest("membership %s is %s; only a valid one renews", m.ID, m.Status)
	case m.CancelAtPeriodEnd:
		return nil, nil, badRequest("membership %s ends with its period", m.ID)
	case plan == nil || plan.PlanType != "renewal" || m.PeriodEnd == nil:
		return nil, nil, badRequest("membership %s has no renewal period", m.ID)
	}
	now := s.clock.Now()
	end := now.AddDate(0, 0, plan.BillingPeriod)
	m.PeriodStart, m.PeriodEnd, m.UpdatedAt = &now, &end, now
	st.Seq++
	p := &Payment{ID: s.ids.id("pay"), Seq: st.Seq, CompanyID: plan.CompanyID, UserID: m.UserID,
		PlanID: plan.ID, ProductID: plan.ProductID, MembershipID: m.ID, Currency: plan.Currency,
		Total: plan.RenewalPrice, Metadata: maps.Clone(m.Metadata), RefundIDs: []string{}, DisputeIDs: []string{},
		BillingReason: "subscription_cycle", CreatedAt: now, UpdatedAt: now}
	if p.Metadata == nil {
		p.Metadata = map[string]any{}
	}
	paidLocked(st, p, now)
	st.Payments[p.ID] = p
	return p, []*Event{s.newEvent(st, "payment.succeeded", p.CompanyID, v1Payment(st, p), v5Payment(st, p))}, nil
}
