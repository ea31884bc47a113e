package whopsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiHandler serves the REST API: v1 under /api/v1, and the v2 and v5
// payment retrieval. Every request needs the app's API key; faults (latency,
// failures) apply before anything else, as a struggling Whop would.
func (s *Sim) apiHandler() http.Handler {
	mux := http.NewServeMux()
	v1 := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, h) }
	v1("POST /api/v1/checkout_configurations", s.apiCreateCheckout)
	v1("GET /api/v1/checkout_configurations/{id}", s.apiGetCheckout)
	v1("GET /api/v1/payments", s.apiListPayments)
	v1("GET /api/v1/payments/{id}", s.apiGetPayment)
	v1("POST /api/v1/payments/{id}/refund", s.apiRefund)
	v1("POST /api/v1/transfers", s.apiCreateTransfer)
	v1("GET /api/v1/transfers/{id}", s.apiGetTransfer)
	v1("GET /api/v1/ledger_accounts/{id}", s.apiGetLedger)
	v1("GET /api/v1/users/{id}", s.apiGetUser)
	v1("GET /api/v1/users/{id}/access/{resource}", s.apiCheckAccess)
	v1("GET /api/v1/experiences/{id}", s.apiGetExperience)
	v1("GET /api/v1/companies/{id}", s.apiGetCompany)
	v1("GET /api/v1/plans/{id}", s.apiGetPlan)
	v1("GET /api/v1/products/{id}", s.apiGetProduct)
	v1("GET /api/v1/apps/{id}", s.apiGetApp)
	v1("GET /api/v1/memberships", s.apiListMemberships)
	v1("GET /api/v1/memberships/{id}", s.apiGetMembership)
	v1("POST /api/v1/memberships/{id}/cancel", s.apiCancelMembership)
	s.memberRoutes(mux) // saved methods, off-session payments, notifications
	mux.HandleFunc("GET /api/v2/payments/{id}", s.apiGetPaymentV2)
	mux.HandleFunc("GET /api/v5/app/payments/{id}", s.apiGetPaymentV5)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &APIError{Status: http.StatusNotFound, Code: "not_found",
			Message: fmt.Sprintf("the sandbox has no route %s %s", r.Method, r.URL.Path)})
	})
	// Faults sit inside the idempotency layer, so a slow request is "in
	// flight" for its key, as a slow Whop's would be.
	return s.withAuth(s.withVersion(s.withIdempotency(s.withFaults(mux))))
}

// withAuth checks the bearer key.
func (s *Sim) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		want := s.st.App.APIKey
		s.mu.Unlock()
		if !ok || key != want {
			writeError(w, r, &APIError{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "a valid API key is required in Authorization: Bearer <key>"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withFaults adds the configured latency and fails the configured share
// of requests, with Retry-After on 429s.
func (s *Sim) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := s.Faults()
		if f.APILatencyMS > 0 {
			select {
			case <-time.After(time.Duration(f.APILatencyMS) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		if f.APIFailureRate > 0 && s.ids.float() < f.APIFailureRate {
			status := f.APIFailureStatus
			if status == 0 {
				status = http.StatusInternalServerError
			}
			s.log.Info("whopsim: injected API failure", "path", r.URL.Path, "status", status)
			if status == http.StatusTooManyRequests {
				wait := max(f.RetryAfterSeconds, 1)
				w.Header().Set("Retry-After", strconv.Itoa(wait))
				writeError(w, r, &APIError{Status: status, Code: "rate_limit_exceeded",
					Message: fmt.Sprintf("Try again in %d seconds.", wait)})
				return
			}
			writeError(w, r, &APIError{Status: status, Code: "internal_server_error",
				Message: "The sandbox failed this request on purpose (api_failure_rate)."})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// writeError writes err in the shape of the API generation the request
// used: v1 {"error":{"code","message"}} (429: "type"), v2
// {"error":{"status","message"}}, v5 {"message"}.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *APIError
	if !errors.As(err, &e) {
		e = &APIError{Status: http.StatusInternalServerError, Code: "internal_server_error", Message: err.Error()}
	}
	var body any
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v2/"):
		body = obj{"error": obj{"status": e.Status, "message": e.Message}}
	case strings.HasPrefix(r.URL.Path, "/api/v5/"):
		body = obj{"message": e.Message}
	case e.Status == http.StatusTooManyRequests:
		body = obj{"error": obj{"type": e.Code, "message": e.Message}}
	default:
		body = obj{"error": obj{"code": e.Code, "message": e.Message}}
	}
	writeJSON(w, e.Status, body)
}

// decodeBody reads a JSON request body into v; an empty body leaves v as
// it is, since some POSTs (refund in full) need none.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return badRequest("the body is not valid JSON: %v", err)
	}
	return nil
}

// respond renders a read under the lock and writes it (200).
func (s *Sim) respond(w http.ResponseWriter, r *http.Request, f func(st *State) (any, error)) {
	var body []byte
	var err error
	s.view(func(st *State) {
		var out any
		if out, err = f(st); err == nil {
			body, err = json.Marshal(out)
		}
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// respondUpdate runs a change, renders its result under the lock and
// writes it (200); the change's events go to the sender afterwards.
func (s *Sim) respondUpdate(w http.ResponseWriter, r *http.Request, f func(st *State) (any, []*Event, error)) {
	var body []byte
	err := s.update(func(st *State) ([]*Event, error) {
		out, evs, err := f(st)
		if err != nil {
			return nil, err
		}
		body, err = json.Marshal(out)
		return evs, err
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// writeRaw writes an encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// queryList reads an array parameter in any of the forms clients send:
// k[]=a&k[]=b (the official client), k=a&k=b, or k=a,b.
func queryList(r *http.Request, name string) []string {
	q := r.URL.Query()
	var out []string
	for _, v := range append(q[name+"[]"], q[name]...) {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
