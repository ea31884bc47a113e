package whopsim

import (
	"maps"
	"net/http"
	"time"
)

// Purchase is one checkout answered in the sandbox's modal (or by a test
// directly): the configuration and plan inAppPurchase named, and the buyer.
type Purchase struct {
	CheckoutID string `json:"id"`
	PlanID     string `json:"plan_id"`
	// UserID is the buyer; empty means the user selected on the parent page.
	UserID string `json:"user_id"`
}

// PurchaseResult is what inAppPurchase resolves with on success, in the
// camelCase the iframe SDK validates.
type PurchaseResult struct {
	SessionID string `json:"sessionId"`
	ReceiptID string `json:"receiptId"`
}

// declineMessage is the failure message of a declined card.
const declineMessage = "Your card was declined."

// Pay completes a purchase: it records a paid payment carrying the
// configuration's metadata (and a membership for product or renewal
// plans), credits the seller's ledger and sends payment.succeeded (and
// membership.activated).
func (s *Sim) Pay(p Purchase) (PurchaseResult, error) { return s.purchase(p, true) }

// Decline fails a purchase as a declined card would: a payment that is not
// paid, substatus failed, and a payment.failed delivery.
func (s *Sim) Decline(p Purchase) (PurchaseResult, error) { return s.purchase(p, false) }

// PayPending starts a purchase whose payment stays pending, as a bank
// transfer's does, and sends payment.pending; SettlePending later pays or
// fails it.
func (s *Sim) PayPending(req Purchase) (PurchaseResult, error) {
	var res PurchaseResult
	err := s.update(func(st *State) (evs []*Event, err error) {
		var p *Payment
		if res, p, _, err = s.startLocked(st, req); err != nil {
			return nil, err
		}
		return s.pendingLocked(st, p), nil
	})
	return res, err
}

// pendingLocked leaves a payment startLocked made pending and returns its
// payment.pending.
func (s *Sim) pendingLocked(st *State, p *Payment) []*Event {
	p.Status, p.Substatus = "pending", "pending"
	return []*Event{s.newEvent(st, "payment.pending", p.CompanyID, v1Payment(st, p), v5Payment(st, p))}
}

// pendingFailure is the failure message of a pending payment that failed.
const pendingFailure = "The bank declined the transfer."

// SettlePending ends a payment PayPending started: paid (with what Pay
// records and sends) or failed (payment.failed), at the sandbox's now.
func (s *Sim) SettlePending(paymentID string, pay bool) error {
	return s.update(func(st *State) ([]*Event, error) {
		_, evs, err := s.settleLocked(st, paymentID, pay)
		return evs, err
	})
}

// settleLocked is SettlePending inside update.
func (s *Sim) settleLocked(st *State, paymentID string, pay bool) (*Payment, []*Event, error) {
	p := st.Payments[paymentID]
	if p == nil {
		return nil, nil, notFound("payment", paymentID)
	}
	if p.Status != "pending" || p.Substatus != "pending" {
		return nil, nil, badRequest("payment %s is not pending (status %s, substatus %s)", p.ID, p.Status, p.Substatus)
	}
	plan := st.Plans[p.PlanID]
	if pay && plan == nil {
		return nil, nil, notFound("plan", p.PlanID)
	}
	now := s.clock.Now()
	p.UpdatedAt = now
	if !pay {
		p.Status, p.Substatus, p.FailureMessage = "open", "failed", pendingFailure
		return p, []*Event{s.newEvent(st, "payment.failed", p.CompanyID, v1Payment(st, p), v5Payment(st, p))}, nil
	}
	return p, s.payLocked(st, p, plan, now), nil
}

func (s *Sim) purchase(req Purchase, pay bool) (PurchaseResult, error) {
	var res PurchaseResult
	err := s.update(func(st *State) (evs []*Event, err error) {
		res, _, evs, err = s.purchaseLocked(st, req, pay)
		return evs, err
	})
	return res, err
}

// purchaseLocked records the payment (and membership) of a purchase and
// returns its events; call it inside update.
func (s *Sim) purchaseLocked(st *State, req Purchase, pay bool) (res PurchaseResult, p *Payment, evs []*Event, err error) {
	res, p, plan, err := s.startLocked(st, req)
	if err != nil {
		return res, nil, nil, err
	}
	if !pay {
		p.Status, p.Substatus, p.FailureMessage = "open", "failed", declineMessage
		return res, p, []*Event{s.newEvent(st, "payment.failed", p.CompanyID, v1Payment(st, p), v5Payment(st, p))}, nil
	}
	return res, p, s.payLocked(st, p, plan, p.CreatedAt), nil
}

// startLocked records a purchase's payment, neither paid nor failed yet,
// and sends nothing; call it inside update.
func (s *Sim) startLocked(st *State, req Purchase) (res PurchaseResult, p *Payment, plan *Plan, err error) {
	plan, co, err := s.resolvePurchase(st, req)
	if err != nil {
		return res, nil, nil, err
	}
	user := req.UserID
	if user == "" {
		user = st.SelectedUser
	}
	if st.Users[user] == nil {
		return res, nil, nil, notFound("user", user)
	}
	now := s.clock.Now()
	st.Seq++
	p = &Payment{ID: s.ids.id("pay"), Seq: st.Seq, CompanyID: plan.CompanyID, UserID: user,
		PlanID: plan.ID, ProductID: plan.ProductID, Currency: plan.Currency, Total: plan.Charge(),
		Metadata: map[string]any{}, RefundIDs: []string{}, DisputeIDs: []string{},
		BillingReason: "one_time", CreatedAt: now, UpdatedAt: now}
	if plan.PlanType == "renewal" {
		p.BillingReason = "subscription_create"
	}
	if co != nil {
		p.CheckoutID = co.ID
		maps.Copy(p.Metadata, co.Metadata)
		res.SessionID = co.ID
	} else {
		res.SessionID = s.ids.id("ch")
	}
	res.ReceiptID = p.ID
	st.Payments[p.ID] = p
	return res, p, plan, nil
}

// payLocked makes payment p of plan paid at now: the seller's ledger is
// credited, a product or renewal plan's membership made, and their events
// returned (payment.succeeded, membership.activated).
func (s *Sim) payLocked(st *State, p *Payment, plan *Plan, now time.Time) []*Event {
	paidLocked(st, p, now)
	var m *Membership
	if plan.ProductID != "" || plan.PlanType == "renewal" {
		m = &Membership{ID: s.ids.id("mem"), UserID: p.UserID, PlanID: plan.ID, ProductID: plan.ProductID,
			CompanyID: plan.CompanyID, Status: "active", CheckoutID: p.CheckoutID,
			Metadata: maps.Clone(p.Metadata), CreatedAt: now, UpdatedAt: now}
		if plan.PlanType == "renewal" {
			end := now.AddDate(0, 0, plan.BillingPeriod)
			m.PeriodStart, m.PeriodEnd = &now, &end
		}
		st.Memberships[m.ID] = m
		p.MembershipID = m.ID
	}
	evs := []*Event{s.newEvent(st, "payment.succeeded", p.CompanyID, v1Payment(st, p), v5Payment(st, p))}
	if m != nil {
		evs = append(evs, s.newEvent(st, "membership.activated", m.CompanyID, v1Membership(st, m), legacyMembership(m)))
	}
	return evs
}

// paidLocked marks payment p paid at now, takes the sandbox's fee and
// credits the rest to the seller's ledger.
func paidLocked(st *State, p *Payment, now time.Time) {
	p.Status, p.Substatus, p.PaidAt = "paid", "succeeded", &now
	p.Fee = whopFee(p.Total)
	if c := st.Companies[p.CompanyID]; c != nil {
		st.Ledgers[c.LedgerID].add(p.Currency, p.Total-p.Fee)
	}
}

// resolvePurchase finds the plan (and configuration) a purchase names. The
// SDK sends both the configuration's id and its plan's id; they must agree.
func (s *Sim) resolvePurchase(st *State, req Purchase) (*Plan, *Checkout, error) {
	var co *Checkout
	planID := req.PlanID
	if req.CheckoutID != "" {
		if co = st.Checkouts[req.CheckoutID]; co == nil {
			return nil, nil, notFound("checkout configuration", req.CheckoutID)
		}
		if co.Mode == "setup" || co.PlanID == "" {
			return nil, nil, badRequest("checkout configuration %s has no plan to pay for", co.ID)
		}
		if planID != "" && planID != co.PlanID {
			return nil, nil, badRequest("planId %s is not the plan of checkout configuration %s (%s)", planID, co.ID, co.PlanID)
		}
		planID = co.PlanID
	}
	plan := st.Plans[planID]
	if plan == nil {
		return nil, nil, notFound("plan", planID)
	}
	return plan, co, nil
}

// whopFee is the sandbox's processing fee in minor units: 3% rounded half
// up plus 30, never more than the charge. Whop's real fees vary; this only
// has to make amount_after_fees differ from total.
func whopFee(total int64) int64 {
	if total <= 0 {
		return 0
	}
	return min(total, (total*3+50)/100+30)
}

// purchaseInfo is what a checkout shows before the buyer decides.
type purchaseInfo struct {
	Plan     *Plan
	Checkout *Checkout // nil for a bare plan
	Title    string
	Company  string
	Buyer    *User
}

// describePurchase resolves a purchase for a checkout screen (the modal or
// the hosted page), or says why it cannot be paid. Call it inside view.
func (s *Sim) describePurchase(st *State, req Purchase) (purchaseInfo, error) {
	plan, co, err := s.resolvePurchase(st, req)
	if err != nil {
		return purchaseInfo{}, err
	}
	title := plan.Title
	if pr := st.Products[plan.ProductID]; pr != nil {
		title = pr.Title
	}
	if title == "" {
		title = st.App.Name + " purchase" // an inline plan with no title, as apps' charges are
	}
	user := st.Users[st.SelectedUser]
	if req.UserID != "" {
		user = st.Users[req.UserID]
	}
	if user == nil {
		return purchaseInfo{}, &APIError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "no buyer selected"}
	}
	return purchaseInfo{Plan: plan, Checkout: co, Title: title, Company: st.Companies[plan.CompanyID].Title, Buyer: user}, nil
}

// checkoutDetails describes a purchase for the modal before the buyer
// decides, or says why it cannot be paid.
func (s *Sim) checkoutDetails(req Purchase) (obj, error) {
	var out obj
	var err error
	s.view(func(st *State) {
		if d, setup, e := s.setupDetails(st, req); setup { // saved_methods.go
			out, err = d, e
			return
		}
		var in purchaseInfo
		if in, err = s.describePurchase(st, req); err != nil {
			return
		}
		u, plan := in.Buyer, in.Plan
		out = obj{"plan": v1Plan(plan), "title": in.Title, "company": in.Company,
			"charge": major(plan.Charge(), plan.Currency), "billing_period": plan.BillingPeriod,
			"user": obj{"id": u.ID, "username": u.Username, "name": u.Name, "email": u.Email}}
		if in.Checkout != nil {
			out["metadata"] = meta(in.Checkout.Metadata)
		}
	})
	return out, err
}
