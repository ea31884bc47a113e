package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// staleReads sits in the app's Whop client and, once frozen on a payment,
// answers every read of it with the first answer it got: Whop's view while
// a refund has not settled yet (Whop settles refunds asynchronously; the
// sandbox at once).
type staleReads struct {
	mu     sync.Mutex
	suffix string
	body   []byte
}

func (h *staleReads) freeze(paymentID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.suffix, h.body = "/payments/"+paymentID, nil
}

// thaw lets reads through again: Whop has settled.
func (h *staleReads) thaw() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.suffix, h.body = "", nil
}

func (h *staleReads) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	suffix, body := h.suffix, h.body
	h.mu.Unlock()
	if req.Method != http.MethodGet || suffix == "" || !strings.HasSuffix(req.URL.Path, suffix) {
		return http.DefaultTransport.RoundTrip(req)
	}
	if body != nil {
		return answer(http.StatusOK, string(body)), nil
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	if res.StatusCode == http.StatusOK {
		h.mu.Lock()
		h.body = b
		h.mu.Unlock()
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res, nil
}

// TestRefundFormIsSentOnceUnderItsKey: the confirmation form carries a key
// fresh on every rendering, and the refund reaches Whop with it as the
// Idempotency-Key. Sent again before Whop shows the refund, the form is
// answered with the first refund and refunds nothing more. After Whop
// failed, the form keeps its key; after a refusal it gets a new one.
func TestRefundFormIsSentOnceUnderItsKey(t *testing.T) {
	reads := &staleReads{}
	a := setup(t, withClient(whop.WithHTTPClient(&http.Client{Transport: reads, Timeout: 5 * time.Second}),
		whop.WithRetry(1, time.Millisecond)))
	owner, admin, user := a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID, a.member(0)
	_, pay := a.buyIn(a.experience(), user, "starter")
	confirmURL := "/dashboard/" + owner + "/payments/" + pay + "/refund"
	_, body := a.get(confirmURL, admin)
	key := parsePage(t, body).attr("refund-key", "value")
	_, again := a.get(confirmURL, admin)
	if other := parsePage(t, again).attr("refund-key", "value"); !strings.HasPrefix(key, "form-") || key == other {
		t.Fatalf("form keys %q and %q, want fresh ones", key, other)
	}

	// Until Whop settles, its refund webhooks wait and the payment reads as
	// it was: the form sent twice in that time passes the look-up twice.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 1 << 20 })
	reads.freeze(pay)
	form := url.Values{"amount": {"1.00"}, "idempotency_key": {key}}
	for i := range 2 {
		status, loc, body := a.form(confirmURL, admin, form)
		if status != http.StatusSeeOther || loc != "/dashboard/"+owner+"?payment="+pay+"&notice=refunded#lookup" {
			t.Fatalf("submission %d: %d %q %.300s", i+1, status, loc, parsePage(t, body).text("refund-error"))
		}
	}
	// The key with another amount: Whop refuses it, and the form comes back
	// with a new key so the admin can send the new amount.
	status, _, body := a.form(confirmURL, admin, url.Values{"amount": {"2.00"}, "idempotency_key": {key}})
	p := parsePage(t, body)
	if status != http.StatusUnprocessableEntity || !strings.Contains(p.text("refund-error"), "Whop refused the refund") ||
		p.attr("refund-key", "value") == key || !strings.HasPrefix(p.attr("refund-key", "value"), "form-") {
		t.Fatalf("same key, other amount: %d %q key %q", status, p.text("refund-error"), p.attr("refund-key", "value"))
	}
	// Whop failing: the form keeps its key, since the refund may have happened.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus = 1, 503 })
	fresh := "form-after-a-failure"
	status, _, body = a.form(confirmURL, admin, url.Values{"amount": {"1.00"}, "idempotency_key": {fresh}})
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus = 0, 0 })
	if p := parsePage(t, body); status != http.StatusBadGateway || p.attr("refund-key", "value") != fresh {
		t.Fatalf("Whop failing: %d, key %q, want 502 and %q", status, p.attr("refund-key", "value"), fresh)
	}
	// Without a key nothing is sent.
	status, _, body = a.form(confirmURL, admin, url.Values{"amount": {"1.00"}})
	if p := parsePage(t, body); status != http.StatusBadRequest || !strings.Contains(p.text("refund-error"), "idempotency key") ||
		!strings.HasPrefix(p.attr("refund-key", "value"), "form-") {
		t.Fatalf("no key: %d %q", status, p.text("refund-error"))
	}

	// Whop settles: one refund, under the form's key, one set of credits back.
	reads.thaw()
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 0 })
	a.sim.ReleaseHeld(false)
	a.settle()
	st := a.idempotency()
	if n := st.refundsOf(pay); n != 1 {
		t.Fatalf("refunds at the sandbox = %d, want 1", n)
	}
	if _, ok := st.Idempotency[billing.RefundIdempotencyKey(key)]; !ok {
		t.Fatalf("the sandbox saw no refund under %q", billing.RefundIdempotencyKey(key))
	}
	if b := a.balance(user); b != 100-21 { // ceil(100 × 100 / 499), once
		t.Fatalf("balance = %d, want 79", b)
	}
}

// simIdempotency is the part of the sandbox's state refunds are checked in.
type simIdempotency struct {
	Refunds     map[string]whopsim.Refund  `json:"refunds"`
	Idempotency map[string]json.RawMessage `json:"idempotency"`
}

func (a *app) idempotency() simIdempotency {
	a.t.Helper()
	var st simIdempotency
	a.simState(&st)
	return st
}

func (st simIdempotency) refundsOf(paymentID string) int {
	n := 0
	for _, r := range st.Refunds {
		if r.PaymentID == paymentID {
			n++
		}
	}
	return n
}
