package whopsim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// The REST v1 endpoints other than payments.

func (s *Sim) apiCreateCheckout(w http.ResponseWriter, r *http.Request) {
	var req CheckoutRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.Plan != nil {
		// Plans moved to the account model in 2026-06-09; the inline plan
		// of a checkout configuration is a plan body like any other.
		company, field, err := accountParam(r, Version20260609, req.Plan.CompanyID, req.Plan.AccountID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		req.Plan.CompanyID, req.Plan.field = company, "plan."+field
	}
	s.respondUpdate(w, r, func(st *State) (any, []*Event, error) {
		c, err := s.createCheckout(st, req)
		if err != nil {
			return nil, nil, err
		}
		return s.v1Checkout(st, c), nil, nil
	})
}

func (s *Sim) apiGetCheckout(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		c := st.Checkouts[r.PathValue("id")]
		if c == nil {
			return nil, notFound("checkout configuration", r.PathValue("id"))
		}
		return s.v1Checkout(st, c), nil
	})
}

func (s *Sim) apiCreateTransfer(w http.ResponseWriter, r *http.Request) {
	var req TransferRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	f := s.Faults()
	if f.TransferLatencyMS > 0 {
		select {
		case <-time.After(time.Duration(f.TransferLatencyMS) * time.Millisecond):
		case <-r.Context().Done():
			// The client gave up first: nothing was transferred.
			s.log.Info("whopsim: transfer abandoned by its client during the latency; nothing moved",
				"idempotence_key", req.IdempotenceKey)
			return
		}
	}
	if f.TransferHangRate > 0 && s.ids.float() < f.TransferHangRate {
		// The transfer is made, the answer withheld until the client hangs up.
		// Under an Idempotency-Key the answer is still written for the key
		// to keep (the client sees nothing of it), so a retry with the key
		// replays this transfer, as Whop keeps a key whose request it
		// carried out.
		var held http.ResponseWriter = heldAnswer{}
		if rec, ok := w.(*idemRecorder); ok {
			held = rec
		}
		s.respondUpdate(held, r, func(st *State) (any, []*Event, error) {
			t, _, err := s.transferLocked(st, req)
			if err != nil {
				return nil, nil, err
			}
			return v1Transfer(st, t), nil, nil
		})
		s.log.Info("whopsim: transfer answer withheld", "idempotence_key", req.IdempotenceKey)
		<-r.Context().Done()
		return
	}
	s.respondUpdate(w, r, func(st *State) (any, []*Event, error) {
		t, _, err := s.transferLocked(st, req)
		if err != nil {
			return nil, nil, err
		}
		return v1Transfer(st, t), nil, nil
	})
}

// heldAnswer swallows a response that must never reach the client.
type heldAnswer struct{}

func (heldAnswer) Header() http.Header         { return http.Header{} }
func (heldAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (heldAnswer) WriteHeader(int)             {}

func (s *Sim) apiGetTransfer(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		t := st.Transfers[r.PathValue("id")]
		if t == nil {
			return nil, notFound("transfer", r.PathValue("id"))
		}
		return v1Transfer(st, t), nil
	})
}

// apiGetLedger finds a ledger account by its own id, a company's or a
// user's.
func (s *Sim) apiGetLedger(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		l := ledgerFor(st, r.PathValue("id"))
		if l == nil {
			return nil, notFound("ledger account", r.PathValue("id"))
		}
		return v1Ledger(st, l), nil
	})
}

// findUser looks a user up by id or by username (with or without "@").
func findUser(st *State, idOrName string) *User {
	if u := st.Users[idOrName]; u != nil {
		return u
	}
	name := strings.TrimPrefix(idOrName, "@")
	for _, u := range st.Users {
		if strings.EqualFold(u.Username, name) {
			return u
		}
	}
	return nil
}

// apiGetUser answers GET /users/{id}. An account named with the version's
// parameter (company_id, or account_id from 2026-06-08) asks for the
// user's profile as that account sees it; the sandbox keeps no per-account
// profiles, so it only checks that the account exists.
func (s *Sim) apiGetUser(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	account, field, err := accountParam(r, Version20260608, q.Get("company_id"), q.Get("account_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.respond(w, r, func(st *State) (any, error) {
		if account != "" && st.Companies[account] == nil {
			return nil, notFound(field, account)
		}
		u := findUser(st, r.PathValue("id"))
		if u == nil {
			return nil, notFound("user", r.PathValue("id"))
		}
		return v1User(u), nil
	})
}

func (s *Sim) apiCheckAccess(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		u := findUser(st, r.PathValue("id"))
		if u == nil {
			return nil, notFound("user", r.PathValue("id"))
		}
		level, ok := accessLevel(st, u.ID, r.PathValue("resource"))
		if !ok {
			return nil, notFound("resource", r.PathValue("resource"))
		}
		return obj{"has_access": level != "no_access", "access_level": level}, nil
	})
}

func (s *Sim) apiGetExperience(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		e := st.Experiences[r.PathValue("id")]
		if e == nil {
			return nil, notFound("experience", r.PathValue("id"))
		}
		return v1Experience(st, e), nil
	})
}

func (s *Sim) apiGetCompany(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		c := st.Companies[r.PathValue("id")]
		if c == nil {
			return nil, notFound("company", r.PathValue("id"))
		}
		return v1Company(st, c), nil
	})
}

func (s *Sim) apiGetPlan(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		p := st.Plans[r.PathValue("id")]
		if p == nil {
			return nil, notFound("plan", r.PathValue("id"))
		}
		o := v1Plan(p)
		if accountModel(r, Version20260609) {
			o["account"] = obj{"id": p.CompanyID}
		} else {
			o["company"] = obj{"id": p.CompanyID}
		}
		o["product"] = nil
		if p.ProductID != "" {
			o["product"] = obj{"id": p.ProductID}
		}
		o["title"] = orNil(p.Title)
		o["created_at"] = iso(p.CreatedAt)
		return o, nil
	})
}

func (s *Sim) apiGetMembership(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		m := st.Memberships[r.PathValue("id")]
		if m == nil {
			return nil, notFound("membership", r.PathValue("id"))
		}
		return v1Membership(st, m), nil
	})
}

// apiListMemberships is GET /api/v1/memberships with company_id, user_ids[],
// statuses[], product_ids[] and plan_ids[], newest first.
func (s *Sim) apiListMemberships(w http.ResponseWriter, r *http.Request) {
	company := r.URL.Query().Get("company_id")
	users, statuses := queryList(r, "user_ids"), queryList(r, "statuses")
	products, plans := queryList(r, "product_ids"), queryList(r, "plan_ids")
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	s.respond(w, r, func(st *State) (any, error) {
		var ms []*Membership
		for _, m := range st.Memberships {
			if (company == "" || m.CompanyID == company) && in(users, m.UserID) && in(statuses, m.Status) &&
				in(products, m.ProductID) && in(plans, m.PlanID) {
				ms = append(ms, m)
			}
		}
		ps := make([]position, len(ms))
		for i, m := range ms {
			ps[i] = position{At: m.CreatedAt, ID: m.ID}
		}
		slices.SortFunc(ps, membershipOrder.compare)
		page, info, err := paginate(r, membershipOrder, ps)
		if err != nil {
			return nil, err
		}
		data := make([]any, len(page))
		for i, id := range page {
			data[i] = v1Membership(st, st.Memberships[id])
		}
		return obj{"data": data, "page_info": info}, nil
	})
}

// membershipOrder lists memberships newest first, ties by id.
var membershipOrder = listOrder{name: "memberships/created_at/desc", compare: func(a, b position) int {
	if n := b.At.Compare(a.At); n != 0 {
		return n
	}
	return strings.Compare(a.ID, b.ID)
}}

func (s *Sim) apiCancelMembership(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Mode string `json:"cancellation_mode"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, r, err)
		return
	}
	s.respondUpdate(w, r, func(st *State) (any, []*Event, error) {
		m, evs, err := s.cancelMembershipLocked(st, r.PathValue("id"), body.Mode)
		if err != nil {
			return nil, nil, err
		}
		return v1Membership(st, m), evs, nil
	})
}
