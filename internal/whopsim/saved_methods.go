package whopsim

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Saved payment methods, as Whop keeps them: a setup-mode checkout
// configuration, completed in the modal or on the hosted page, saves the
// buyer's card without charging. That makes the buyer a member of the
// configuration's company ("mber_…", once per user and company), a payment
// method of that member ("payt_…") and a setup intent ("sint_…") naming
// both, and sends setup_intent.succeeded. The member's methods are listed
// with GET /api/v1/payment_methods?member_id=…, and POST /api/v1/payments
// charges one off-session, with the same payment and the same webhooks
// (payment.succeeded or payment.failed) a checkout's payment has.
//
// Test cards, as Whop's sandbox (Stripe's) offers them:
//
//	4242 4242 4242 4242  saves; off-session charges succeed
//	4000 0000 0000 0002  declined: nothing is saved
//	4000 0000 0000 0341  saves; every off-session charge is declined

// Test card numbers.
const (
	CardSucceeds       = "4242424242424242"
	CardDeclines       = "4000000000000002"
	CardSavesThenFails = "4000000000000341"
)

// Member is a user as a customer of one company.
type Member struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	CompanyID string    `json:"company_id"`
	CreatedAt time.Time `json:"created_at"`
}

// PaymentMethod is a member's saved card.
type PaymentMethod struct {
	ID        string    `json:"id"`
	MemberID  string    `json:"member_id"`
	Brand     string    `json:"brand"`
	Last4     string    `json:"last4"`
	Number    string    `json:"number"` // the test card, which decides how charges go
	Seq       int64     `json:"seq"`    // order of saving, newest listed first
	CreatedAt time.Time `json:"created_at"`
}

// SetupIntent is a completed setup-mode checkout.
type SetupIntent struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	CompanyID       string         `json:"company_id"`
	CheckoutID      string         `json:"checkout_configuration_id"`
	MemberID        string         `json:"member_id"`
	PaymentMethodID string         `json:"payment_method_id"`
	Metadata        map[string]any `json:"metadata"`
	CreatedAt       time.Time      `json:"created_at"`
}

// Setup is a setup-mode checkout answered with a card.
type Setup struct {
	CheckoutID string `json:"id"`
	UserID     string `json:"user_id"` // empty: the user selected on the parent page
	Card       string `json:"card"`    // a test card number (spaces allowed)
}

func (st *State) savedMaps() {
	if st.Members == nil {
		st.Members = map[string]*Member{}
	}
	if st.PaymentMethods == nil {
		st.PaymentMethods = map[string]*PaymentMethod{}
	}
	if st.SetupIntents == nil {
		st.SetupIntents = map[string]*SetupIntent{}
	}
}

// memberLocked finds or makes the user's member of a company.
func (s *Sim) memberLocked(st *State, userID, companyID string) *Member {
	st.savedMaps()
	for _, m := range st.Members {
		if m.UserID == userID && m.CompanyID == companyID {
			return m
		}
	}
	m := &Member{ID: s.ids.id("mber"), UserID: userID, CompanyID: companyID, CreatedAt: s.clock.Now()}
	st.Members[m.ID] = m
	return m
}

// SaveCard completes a setup-mode checkout. The declining card saves
// nothing and answers as a decline does; the others save the card and
// return the setup intent's id as the receipt.
func (s *Sim) SaveCard(req Setup) (PurchaseResult, error) {
	var res PurchaseResult
	err := s.update(func(st *State) ([]*Event, error) {
		co := st.Checkouts[req.CheckoutID]
		if co == nil {
			return nil, notFound("checkout configuration", req.CheckoutID)
		}
		if co.Mode != "setup" {
			return nil, badRequest("checkout configuration %s is not in setup mode", co.ID)
		}
		user := req.UserID
		if user == "" {
			user = st.SelectedUser
		}
		if st.Users[user] == nil {
			return nil, notFound("user", user)
		}
		number := strings.ReplaceAll(req.Card, " ", "")
		switch number {
		case CardSucceeds, CardSavesThenFails:
		case CardDeclines:
			return nil, &APIError{Status: http.StatusPaymentRequired, Code: "card_declined", Message: declineMessage}
		default:
			return nil, badRequest("card %q is not a sandbox test card (%s, %s or %s)", req.Card,
				CardSucceeds, CardDeclines, CardSavesThenFails)
		}
		now := s.clock.Now()
		m := s.memberLocked(st, user, co.CompanyID)
		st.Seq++
		pm := &PaymentMethod{ID: s.ids.id("payt"), MemberID: m.ID, Brand: "visa", Last4: number[len(number)-4:],
			Number: number, Seq: st.Seq, CreatedAt: now}
		st.PaymentMethods[pm.ID] = pm
		si := &SetupIntent{ID: s.ids.id("sint"), Status: "succeeded", CompanyID: co.CompanyID, CheckoutID: co.ID,
			MemberID: m.ID, PaymentMethodID: pm.ID, Metadata: maps.Clone(co.Metadata), CreatedAt: now}
		st.SetupIntents[si.ID] = si
		res = PurchaseResult{SessionID: co.ID, ReceiptID: si.ID}
		return []*Event{s.newEvent(st, "setup_intent.succeeded", co.CompanyID, v1SetupIntent(st, si), v1SetupIntent(st, si))}, nil
	})
	return res, err
}

func v1PaymentMethod(pm *PaymentMethod) obj {
	return obj{"id": pm.ID, "typename": "CardPaymentMethod", "created_at": iso(pm.CreatedAt),
		"payment_method_type": "card", "card": obj{"brand": pm.Brand, "last4": pm.Last4, "exp_month": 12, "exp_year": 2034}}
}

func v1SetupIntent(st *State, si *SetupIntent) obj {
	m := st.Members[si.MemberID]
	u := st.Users[m.UserID]
	return obj{"id": si.ID, "status": si.Status, "created_at": iso(si.CreatedAt),
		"company": obj{"id": si.CompanyID}, "checkout_configuration": obj{"id": si.CheckoutID},
		"member":         obj{"id": m.ID, "user": obj{"id": u.ID, "username": u.Username, "name": u.Name}},
		"payment_method": v1PaymentMethod(st.PaymentMethods[si.PaymentMethodID]),
		"metadata":       meta(si.Metadata), "error_message": nil}
}

func (s *Sim) apiGetSetupIntent(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		si := st.SetupIntents[r.PathValue("id")]
		if si == nil {
			return nil, notFound("setup intent", r.PathValue("id"))
		}
		return v1SetupIntent(st, si), nil
	})
}

// apiListPaymentMethods lists a member's methods (member_id), or a
// company's members' (company_id), newest first, in one page.
func (s *Sim) apiListPaymentMethods(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	member, company := q.Get("member_id"), q.Get("company_id")
	if (member == "") == (company == "") {
		writeError(w, r, badRequest("provide either member_id or company_id, not both"))
		return
	}
	s.respond(w, r, func(st *State) (any, error) {
		if member != "" && st.Members[member] == nil {
			return nil, notFound("member", member)
		}
		var pms []*PaymentMethod
		for _, pm := range st.PaymentMethods {
			if pm.MemberID == member || (company != "" && st.Members[pm.MemberID].CompanyID == company) {
				pms = append(pms, pm)
			}
		}
		slices.SortFunc(pms, func(a, b *PaymentMethod) int { return int(b.Seq - a.Seq) })
		data := make([]any, 0, len(pms))
		for _, pm := range pms {
			data = append(data, v1PaymentMethod(pm))
		}
		return obj{"data": data, "page_info": obj{"end_cursor": nil, "start_cursor": nil,
			"has_next_page": false, "has_previous_page": false}}, nil
	})
}

// OffSessionPayment is POST /api/v1/payments.
type OffSessionPayment struct {
	CompanyID       string         `json:"company_id"`
	MemberID        string         `json:"member_id"`
	PaymentMethodID string         `json:"payment_method_id"`
	PlanID          string         `json:"plan_id"`
	Plan            *InlinePlan    `json:"plan"`
	Metadata        map[string]any `json:"metadata"`
}

// apiCreatePayment charges a saved method off-session. The sandbox decides
// at once (Whop answers first and decides in the background; the answer
// here is the decided payment): the card that saves then fails gives a
// failed payment and payment.failed, any other a paid one and
// payment.succeeded, exactly as a checkout's payment.
func (s *Sim) apiCreatePayment(w http.ResponseWriter, r *http.Request) {
	var req OffSessionPayment
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	company, field := req.CompanyID, "company_id"
	if req.Plan != nil {
		if req.Plan.CompanyID == "" && req.Plan.AccountID == "" {
			req.Plan.CompanyID, req.Plan.field = company, "company_id"
		} else {
			pc, pf, err := accountParam(r, Version20260609, req.Plan.CompanyID, req.Plan.AccountID)
			if err != nil {
				writeError(w, r, err)
				return
			}
			req.Plan.CompanyID, req.Plan.field = pc, "plan."+pf
		}
	}
	s.respondUpdate(w, r, func(st *State) (any, []*Event, error) {
		st.savedMaps()
		if st.Companies[company] == nil {
			return nil, nil, badRequest("%s %q is not a company", field, company)
		}
		m := st.Members[req.MemberID]
		if m == nil || m.CompanyID != company {
			return nil, nil, notFound("member", req.MemberID)
		}
		pm := st.PaymentMethods[req.PaymentMethodID]
		if pm == nil || pm.MemberID != m.ID {
			return nil, nil, notFound("payment method", req.PaymentMethodID)
		}
		var plan *Plan
		var err error
		switch {
		case (req.PlanID == "") == (req.Plan == nil):
			return nil, nil, badRequest("pass either plan_id or plan")
		case req.Plan != nil:
			if plan, err = s.inlinePlan(st, req.Plan, s.clock.Now()); err != nil {
				return nil, nil, err
			}
		default:
			if plan = st.Plans[req.PlanID]; plan == nil {
				return nil, nil, notFound("plan", req.PlanID)
			}
		}
		_, p, evs, err := s.purchaseLocked(st, Purchase{PlanID: plan.ID, UserID: m.UserID}, pm.Number != CardSavesThenFails)
		if err != nil {
			return nil, nil, err
		}
		// The payment's metadata is the request's; its events were built
		// with the payment as it was, so rebuild them with it.
		maps.Copy(p.Metadata, req.Metadata)
		p.BillingReason = "manual"
		st.Events = st.Events[:len(st.Events)-len(evs)]
		for i, ev := range evs {
			if strings.HasPrefix(ev.Type, "payment.") {
				evs[i] = s.newEvent(st, ev.Type, ev.CompanyID, v1Payment(st, p), v5Payment(st, p))
			} else {
				st.Events = append(st.Events, ev)
			}
		}
		return v1Payment(st, p), evs, nil
	})
}

// Payments returns a copy of every payment, for tests and tools that
// count what was charged.
func (s *Sim) Payments() []Payment {
	var out []Payment
	s.view(func(st *State) {
		for _, p := range st.Payments {
			out = append(out, *p)
		}
	})
	slices.SortFunc(out, func(a, b Payment) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// setupDetails describes a setup-mode checkout for the modal: nothing to
// pay, a card to save. ok is false for any other checkout.
func (s *Sim) setupDetails(st *State, req Purchase) (out obj, ok bool, err error) {
	co := st.Checkouts[req.CheckoutID]
	if co == nil || co.Mode != "setup" {
		return nil, false, nil
	}
	user := st.Users[st.SelectedUser]
	if req.UserID != "" {
		user = st.Users[req.UserID]
	}
	if user == nil {
		return nil, true, &APIError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "no buyer selected"}
	}
	return obj{"mode": "setup", "title": "Save a payment method", "company": st.Companies[co.CompanyID].Title,
		"charge": "0", "billing_period": 0, "plan": obj{"currency": "usd"}, "metadata": meta(co.Metadata),
		"user": obj{"id": user.ID, "username": user.Username, "name": user.Name, "email": user.Email}}, true, nil
}
