package server_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// transferHook sits in the app's Whop client and lets a test decide what
// happens to each POST /transfers (the n-th, from 1): the sandbox still
// does the real work, the hook only changes what reaches it or comes back.
type transferHook struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    int
	on   func(n int, send func() (*http.Response, error)) (*http.Response, error)
}

func (h *transferHook) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/transfers") {
		return h.next.RoundTrip(req)
	}
	h.mu.Lock()
	h.n++
	n, on := h.n, h.on
	h.mu.Unlock()
	send := func() (*http.Response, error) { return h.next.RoundTrip(req) }
	if on == nil {
		return send()
	}
	return on(n, send)
}

func (h *transferHook) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// withTransferHook gives the app's client the hook, a short timeout and
// quick retries.
func withTransferHook(h *transferHook) appOption {
	h.next = http.DefaultTransport
	return withClient(whop.WithHTTPClient(&http.Client{Transport: h, Timeout: 300 * time.Millisecond}),
		whop.WithRetry(2, 10*time.Millisecond))
}

// TestPayoutTimeoutIsRetriedWithTheSameKeyAndPaysOnce: the first transfer
// call hits the sandbox's latency fault and times out; the client's retry,
// with the same key, pays, and the balance moves once.
func TestPayoutTimeoutIsRetriedWithTheSameKeyAndPaysOnce(t *testing.T) {
	hook := &transferHook{}
	a := setup(t, withTransferHook(hook))
	hook.on = func(n int, send func() (*http.Response, error)) (*http.Response, error) {
		if n == 1 {
			a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APILatencyMS = 1500 })
			defer a.sim.SetFaults(whopsim.Faults{})
		}
		return send()
	}
	assertPaidOnce(t, a, hook, "timeout")
}

// TestPayoutLostAnswerIsReplayedNotPaidTwice: the sandbox pays, but the
// answer never reaches the app; the retry gets the first transfer back.
func TestPayoutLostAnswerIsReplayedNotPaidTwice(t *testing.T) {
	hook := &transferHook{}
	a := setup(t, withTransferHook(hook))
	hook.on = func(n int, send func() (*http.Response, error)) (*http.Response, error) {
		res, err := send()
		if n == 1 && err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return nil, errors.New("connection reset after the request was sent")
		}
		return res, err
	}
	assertPaidOnce(t, a, hook, "lost answer")
}

func assertPaidOnce(t *testing.T, a *app, hook *transferHook, what string) {
	t.Helper()
	creator := a.env.Seed.Creator
	before := a.world()
	code, out, raw := a.payout(map[string]any{"company_id": creator.ID, "recipient": "alice", "amount": "20", "idempotency_key": what})
	if code != 200 || out["payout"].(map[string]any)["status"] != "paid" {
		t.Fatalf("%s: %d %s", what, code, raw)
	}
	if hook.calls() != 2 {
		t.Fatalf("%s: transfer calls = %d, want the first and one retry", what, hook.calls())
	}
	w := a.world()
	if len(w.Transfers) != len(before.Transfers)+1 {
		t.Fatalf("%s: %d transfers at the sandbox, want 1", what, len(w.Transfers)-len(before.Transfers))
	}
	if got := before.ledgerBalance(creator.LedgerID) - w.ledgerBalance(creator.LedgerID); got != 2025 {
		t.Fatalf("%s: balance moved by %d, want 2025 once", what, got)
	}
	po, _ := a.store.Payout(a.ctx, out["payout"].(map[string]any)["id"].(string))
	if _, ok := w.Transfers[po.TransferID]; !ok || po.Attempts != 1 {
		t.Fatalf("%s: payout %+v", what, po)
	}
	a.advanceJobs()
	a.drain() // the safety-net job finds the payout paid and sends nothing
	if len(a.world().Transfers) != len(w.Transfers) {
		t.Fatalf("%s: the payout job paid again", what)
	}
}

// TestPayoutWhopDownStaysPendingAndTheJobPaysOnce: Whop fails every
// transfer while the request runs; the payout is recorded, answers 202, and
// the queue's job pays it with the same key once Whop is back.
func TestPayoutWhopDownStaysPendingAndTheJobPaysOnce(t *testing.T) {
	hook := &transferHook{}
	a := setup(t, withTransferHook(hook))
	var down sync.Mutex
	failing := true
	hook.on = func(n int, send func() (*http.Response, error)) (*http.Response, error) {
		down.Lock()
		defer down.Unlock()
		if failing {
			a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus = 1, 503 })
			defer a.sim.SetFaults(whopsim.Faults{})
		}
		return send()
	}
	creator := a.env.Seed.Creator
	before := a.world()
	body := map[string]any{"company_id": creator.ID, "recipient": "alice", "amount": "7.00", "idempotency_key": "down"}
	code, out, raw := a.payout(body)
	if code != 202 || out["payout"].(map[string]any)["status"] != "pending" {
		t.Fatalf("while Whop is down: %d %s", code, raw)
	}
	id := out["payout"].(map[string]any)["id"].(string)
	po, _ := a.store.Payout(a.ctx, id)
	if po.Attempts != 1 || !strings.Contains(po.LastError, "503") || hook.calls() != 3 {
		t.Fatalf("pending payout %+v after %d calls", po, hook.calls())
	}
	_, page := a.get("/dashboard/"+creator.ID+"?payout="+id, a.env.Seed.Admin.ID)
	p := parsePage(t, page)
	if row := p.cells("payout-" + id); !strings.HasPrefix(row[4], "Pending retrying after 1 attempt") ||
		!strings.HasPrefix(p.text("notice"), "Whop has not confirmed the payout of $7.00 to @alice yet.") {
		t.Fatalf("page: %q / %q", row, p.text("notice"))
	}
	if n := a.drain(); n != 0 {
		t.Fatalf("the job ran %d times before its time", n)
	}
	a.advanceJobs()
	a.drain() // still down: one more attempt, still pending
	if po, _ = a.store.Payout(a.ctx, id); po.Status != ledger.TransferPending || po.Attempts != 2 {
		t.Fatalf("after a failed job run: %+v", po)
	}
	code, out, _ = a.payout(body) // the API caller retrying meanwhile gets the pending payout
	if code != 202 || out["replayed"] != true {
		t.Fatalf("replay while pending: %d %v", code, out)
	}
	down.Lock()
	failing = false
	down.Unlock()
	a.advanceJobs()
	a.drain()
	po, _ = a.store.Payout(a.ctx, id)
	w := a.world()
	if po.Status != ledger.TransferPaid || po.Attempts != 3 || po.LastError != "" {
		t.Fatalf("after Whop came back: %+v", po)
	}
	if len(w.Transfers) != len(before.Transfers)+1 || before.ledgerBalance(creator.LedgerID)-w.ledgerBalance(creator.LedgerID) != 725 {
		t.Fatalf("sandbox: %d transfers, balance moved by %d", len(w.Transfers)-len(before.Transfers),
			before.ledgerBalance(creator.LedgerID)-w.ledgerBalance(creator.LedgerID))
	}
	if w.Transfers[po.TransferID].IdempotenceKey != "creditkit:payout:"+id {
		t.Fatal("the job used another key")
	}
	a.advanceJobs()
	if a.drain() != 0 {
		t.Fatal("a paid payout's job ran again")
	}
	if code, out, _ = a.payout(body); code != 200 || out["payout"].(map[string]any)["status"] != "paid" {
		t.Fatalf("replay once paid: %d %v", code, out)
	}
}
