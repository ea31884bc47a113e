package whopsim

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// visible applies the post-checkout delays: a new payment is unknown for
// PaymentDelay, then reads as pending for PaymentPendingFor. It returns the
// payment as the API should show it now, or nil while it is hidden.
func (s *Sim) visible(p *Payment) *Payment {
	age := s.clock.Now().Sub(p.CreatedAt)
	if age < s.opts.PaymentDelay {
		return nil
	}
	if p.Status == "paid" && age < s.opts.PaymentDelay+s.opts.PaymentPendingFor {
		v := *p
		v.Status, v.Substatus, v.PaidAt = "pending", "pending", nil
		return &v
	}
	return p
}

// lookupPayment finds a payment as the API may show it.
func (s *Sim) lookupPayment(st *State, id string) (*Payment, error) {
	p := st.Payments[id]
	if p == nil {
		return nil, notFound("payment", id)
	}
	if v := s.visible(p); v != nil {
		return v, nil
	}
	return nil, notFound("payment", id)
}

func (s *Sim) apiGetPayment(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		p, err := s.lookupPayment(st, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return v1Payment(st, p), nil
	})
}

// apiGetPaymentV2 accepts expand as expand=user,plan, repeated expand= or
// expand[]=, since clients send all three.
func (s *Sim) apiGetPaymentV2(w http.ResponseWriter, r *http.Request) {
	expand := map[string]bool{}
	for _, e := range queryList(r, "expand") {
		expand[strings.Trim(e, "[] ")] = true
	}
	s.respond(w, r, func(st *State) (any, error) {
		p, err := s.lookupPayment(st, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return v2Payment(st, p, expand), nil
	})
}

func (s *Sim) apiGetPaymentV5(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		p, err := s.lookupPayment(st, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return v5Payment(st, p), nil
	})
}

// apiListPayments is GET /api/v1/payments with Whop's filters.
func (s *Sim) apiListPayments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	company := q.Get("company_id")
	if company == "" {
		writeError(w, r, badRequest("company_id is required"))
		return
	}
	var bounds [4]time.Time
	for i, name := range []string{"created_after", "created_before", "updated_after", "updated_before"} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, r, badRequest("%s must be an ISO-8601 time, not %q", name, v))
				return
			}
			bounds[i] = t
		}
	}
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	statuses, substatuses := queryList(r, "statuses"), queryList(r, "substatuses")
	plans, products, checkouts := queryList(r, "plan_ids"), queryList(r, "product_ids"), queryList(r, "checkout_configuration_ids")
	asc := q.Get("direction") == "asc"
	byPaid := q.Get("order") == "paid_at"
	s.respond(w, r, func(st *State) (any, error) {
		if st.Companies[company] == nil {
			return nil, notFound("company", company)
		}
		var matched []*Payment
		for _, stored := range st.Payments {
			p := s.visible(stored)
			if p == nil || p.CompanyID != company || !in(statuses, p.Status) || !in(substatuses, p.Substatus) ||
				!in(plans, p.PlanID) || !in(products, p.ProductID) || !in(checkouts, p.CheckoutID) ||
				!between(p.CreatedAt, bounds[0], bounds[1]) || !between(p.UpdatedAt, bounds[2], bounds[3]) {
				continue
			}
			matched = append(matched, p)
		}
		order := paymentOrder(byPaid, asc)
		ps := make([]position, len(matched))
		byID := map[string]*Payment{}
		for i, p := range matched {
			ps[i], byID[p.ID] = position{Seq: p.Seq, ID: p.ID}, p
			if byPaid {
				ps[i].At = paidTime(p)
			}
		}
		slices.SortFunc(ps, order.compare)
		page, info, err := paginate(r, order, ps)
		if err != nil {
			return nil, err
		}
		data := make([]any, len(page))
		for i, id := range page {
			data[i] = v1Payment(st, byID[id])
		}
		return obj{"data": data, "page_info": info}, nil
	})
}

// paymentOrder sorts payments by creation (Seq) or by paid_at (At, then
// Seq), newest first unless asc.
func paymentOrder(byPaid, asc bool) listOrder {
	name, sign := "payments/created_at", -1
	if byPaid {
		name = "payments/paid_at"
	}
	if asc {
		name, sign = name+"/asc", 1
	} else {
		name += "/desc"
	}
	return listOrder{name: name, compare: func(a, b position) int {
		if n := a.At.Compare(b.At); n != 0 {
			return sign * n
		}
		return sign * cmp.Compare(a.Seq, b.Seq)
	}}
}

// between reports whether t is after lo and before hi, where a zero bound
// is open.
func between(t, lo, hi time.Time) bool {
	return (lo.IsZero() || t.After(lo)) && (hi.IsZero() || t.Before(hi))
}

// paidTime orders unpaid payments first.
func paidTime(p *Payment) time.Time {
	if p.PaidAt == nil {
		return time.Time{}
	}
	return *p.PaidAt
}

// apiRefund is POST /api/v1/payments/{id}/refund {partial_amount?}; no
// partial_amount refunds everything.
func (s *Sim) apiRefund(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PartialAmount json.Number `json:"partial_amount"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, r, err)
		return
	}
	s.respondUpdate(w, r, func(st *State) (any, []*Event, error) {
		p, err := s.lookupPayment(st, r.PathValue("id"))
		if err != nil {
			return nil, nil, err
		}
		var amount int64
		if body.PartialAmount != "" {
			if amount, err = parseMajor(body.PartialAmount, p.Currency); err != nil {
				return nil, nil, badRequest("partial_amount: %v", err)
			}
			if amount <= 0 {
				return nil, nil, badRequest("partial_amount must be more than 0")
			}
		}
		p, evs, err := s.refundLocked(st, p.ID, amount)
		if err != nil {
			return nil, nil, err
		}
		return v1Payment(st, p), evs, nil
	})
}
