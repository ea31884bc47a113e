package whopsim

import (
	"encoding/json"
	"io"
	"net/http"
)

// controlHandler serves the control API under /_sim/: JSON in, JSON out,
// for the parent page's buttons, scripts and tests in other languages. Go
// tests can call the same operations as methods.
func (s *Sim) controlHandler() http.Handler {
	mux := http.NewServeMux()
	h := mux.HandleFunc
	h("GET /_sim/seed", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Seed()) })
	h("GET /_sim/state", s.ctlState)
	h("POST /_sim/reset", func(w http.ResponseWriter, r *http.Request) { s.Reset(); ok(w) })
	h("GET /_sim/user", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, obj{"user_id": s.SelectedUser()})
	})
	h("POST /_sim/user", s.ctlSelectUser)
	h("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Faults()) })
	h("POST /_sim/faults", s.ctlFaults)
	h("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) { s.SetFaults(Faults{}); ok(w) })
	h("GET /_sim/webhook", func(w http.ResponseWriter, r *http.Request) {
		url, scheme := s.Webhook()
		writeJSON(w, 200, obj{"url": url, "scheme": scheme})
	})
	h("POST /_sim/webhook", s.ctlWebhook)
	h("GET /_sim/events", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, obj{"data": s.Events()}) })
	h("POST /_sim/events/{id}/redeliver", s.ctlRedeliver)
	h("POST /_sim/events/deliver", s.ctlDeliver)
	h("POST /_sim/webhooks/release", s.ctlRelease)
	h("POST /_sim/payments/{id}/refund", s.ctlRefund)
	h("POST /_sim/payments/{id}/dispute", s.ctlDispute)
	h("POST /_sim/payments/{id}/settle", s.ctlSettle)
	h("POST /_sim/disputes/{id}", s.ctlUpdateDispute)
	h("POST /_sim/memberships/{id}/deactivate", func(w http.ResponseWriter, r *http.Request) {
		result(w, r, nil, s.DeactivateMembership(r.PathValue("id")))
	})
	h("GET /_sim/checkout", s.ctlCheckoutDetails)
	h("POST /_sim/checkout", s.ctlCheckout)
	s.cliRoutes(mux)
	s.memberControls(mux) // setup checkouts, the bell
	h("GET /_sim/messages", s.ctlMessages)
	h("POST /_sim/messages", s.ctlLogMessage)
	h("/_sim/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, notFound("control route", r.Method+" "+r.URL.Path))
	})
	return mux
}

func ok(w http.ResponseWriter) { writeJSON(w, http.StatusOK, obj{"ok": true}) }

// result writes v, or err in the v1 error shape.
func result(w http.ResponseWriter, r *http.Request, v any, err error) {
	switch {
	case err != nil:
		writeError(w, r, err)
	case v == nil:
		ok(w)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// decode reads a control request body; an empty body is an empty request.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decodeBody(r, v); err != nil {
		writeError(w, r, err)
		return false
	}
	return true
}

func (s *Sim) ctlState(w http.ResponseWriter, r *http.Request) {
	var b []byte
	var err error
	s.view(func(st *State) { b, err = json.MarshalIndent(st, "", "  ") })
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeRaw(w, http.StatusOK, b)
}

func (s *Sim) ctlSelectUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string `json:"user_id"`
	}
	if decode(w, r, &req) {
		result(w, r, nil, s.SelectUser(req.UserID))
	}
}

// ctlFaults changes only the switches named in the body.
func (s *Sim) ctlFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if err != nil {
		writeError(w, r, badRequest("reading the body: %v", err))
		return
	}
	var out Faults
	s.UpdateFaults(func(f *Faults) {
		next := *f
		if err = json.Unmarshal(body, &next); err == nil {
			err = next.Token.check()
		}
		if err == nil {
			*f = next
		}
		out = *f
	})
	if err != nil {
		writeError(w, r, badRequest("faults: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) ctlWebhook(w http.ResponseWriter, r *http.Request) {
	url, scheme := s.Webhook()
	req := struct {
		URL    *string `json:"url"`
		Scheme Scheme  `json:"scheme"`
	}{URL: &url, Scheme: scheme}
	if decode(w, r, &req) {
		result(w, r, obj{"url": *req.URL, "scheme": req.Scheme}, s.SetWebhook(*req.URL, req.Scheme))
	}
}

func (s *Sim) ctlRedeliver(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Times int `json:"times"`
	}
	if decode(w, r, &req) {
		result(w, r, nil, s.Redeliver(r.PathValue("id"), req.Times))
	}
}

func (s *Sim) ctlDeliver(w http.ResponseWriter, r *http.Request) {
	var req struct {
		EventIDs []string `json:"event_ids"`
		Shuffle  bool     `json:"shuffle"`
	}
	if decode(w, r, &req) {
		result(w, r, nil, s.Deliver(req.EventIDs, req.Shuffle))
	}
}

func (s *Sim) ctlRelease(w http.ResponseWriter, r *http.Request) {
	req := struct {
		Shuffle bool `json:"shuffle"`
	}{Shuffle: true}
	if decode(w, r, &req) {
		writeJSON(w, http.StatusOK, obj{"released": s.ReleaseHeld(req.Shuffle)})
	}
}

// ctlRefund refunds {amount?} (major units) or {percent?} of the payment;
// with neither, in full.
func (s *Sim) ctlRefund(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Amount  json.Number `json:"amount"`
		Percent int64       `json:"percent"`
	}
	if !decode(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	var currency string
	var total int64
	s.view(func(st *State) {
		if p := st.Payments[id]; p != nil {
			currency, total = p.Currency, p.Total
		}
	})
	var amount int64
	switch {
	case req.Amount != "":
		var err error
		if amount, err = parseMajor(req.Amount, currency); err != nil || amount <= 0 {
			writeError(w, r, badRequest("amount must be a positive major-unit number"))
			return
		}
	case req.Percent != 0:
		if req.Percent < 1 || req.Percent > 100 {
			writeError(w, r, badRequest("percent must be between 1 and 100"))
			return
		}
		amount = max(total*req.Percent/100, 1)
	}
	result(w, r, nil, s.Refund(id, amount))
}

func (s *Sim) ctlDispute(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if decode(w, r, &req) {
		id, err := s.Dispute(r.PathValue("id"), req.Reason)
		result(w, r, obj{"dispute_id": id}, err)
	}
}

func (s *Sim) ctlUpdateDispute(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status string `json:"status"`
	}
	if decode(w, r, &req) {
		result(w, r, nil, s.UpdateDispute(r.PathValue("id"), req.Status))
	}
}

// ctlCheckoutDetails describes ?id=&plan_id= for the modal.
func (s *Sim) ctlCheckoutDetails(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, err := s.checkoutDetails(Purchase{CheckoutID: q.Get("id"), PlanID: q.Get("plan_id"), UserID: q.Get("user_id")})
	result(w, r, d, err)
}

// ctlSettle ends a pending payment: {outcome: pay|fail}.
func (s *Sim) ctlSettle(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Outcome string `json:"outcome"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Outcome != "pay" && req.Outcome != "fail" {
		writeError(w, r, badRequest("outcome must be pay or fail"))
		return
	}
	result(w, r, nil, s.SettlePending(r.PathValue("id"), req.Outcome == "pay"))
}

// ctlCheckout answers the modal: {id, plan_id, user_id?, outcome:
// pay|decline|pending}; pending leaves the payment under way, for
// /_sim/payments/{id}/settle to end.
func (s *Sim) ctlCheckout(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Purchase
		Outcome string `json:"outcome"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch req.Outcome {
	case "pay":
		res, err := s.Pay(req.Purchase)
		result(w, r, res, err)
	case "decline":
		res, err := s.Decline(req.Purchase)
		result(w, r, obj{"receiptId": res.ReceiptID, "error": declineMessage}, err)
	case "pending":
		res, err := s.PayPending(req.Purchase)
		result(w, r, res, err)
	default:
		writeError(w, r, badRequest("outcome must be pay, decline or pending"))
	}
}
