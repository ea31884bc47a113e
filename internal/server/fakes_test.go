package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// The credits and webhook handlers against fakes of the small interfaces
// their files declare (Access, Credits, Deliveries): what the handler
// hands billing and what it answers with billing's result, without a
// database or a sandbox. The same handlers run against the real billing
// and the sandbox in credits_test.go and webhook_test.go.

// fakeAccess lets user_member into goodExp, and nobody into anything else.
type fakeAccess struct{}

func (fakeAccess) ExperienceAccess(_ context.Context, user, exp string) error {
	if user == "user_member" && exp == goodExp {
		return nil
	}
	return billing.ErrNoAccess
}

func (fakeAccess) CompanyAdmin(context.Context, string, string) error { return billing.ErrNoAccess }

func (fakeAccess) ExperienceListing(context.Context, string) (*whop.Experience, error) {
	return nil, whop.ErrNotFound
}

// fakeCredits answers with what it was set to and keeps what it was asked.
type fakeCredits struct {
	mu      sync.Mutex
	calls   []string
	wallet  billing.Wallet
	walletE error
	charge  billing.Charge
	confirm billing.ConfirmResult
	confErr error
	modal   billing.ModalOutcome
	spent   billing.Spent
	spendE  error
}

func (f *fakeCredits) called(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeCredits) Packages() []billing.Package {
	return []billing.Package{{ID: "starter", Credits: 100, Price: 499}}
}
func (f *fakeCredits) Currency() money.Currency { return money.USD }
func (f *fakeCredits) Wallet(_ context.Context, user, exp string, fresh bool) (billing.Wallet, error) {
	if fresh {
		exp += " fresh"
	}
	f.called("Wallet " + user + " " + exp)
	return f.wallet, f.walletE
}
func (f *fakeCredits) Balance(_ context.Context, user, exp string) (int64, error) {
	f.called("Balance " + user + " " + exp)
	return f.wallet.Balance, f.walletE
}
func (f *fakeCredits) Activity(context.Context, string, string, int64) (billing.ActivityPage, error) {
	return billing.ActivityPage{}, errors.New("not in these tests")
}
func (f *fakeCredits) Charge(_ context.Context, r billing.ChargeRequest) (billing.Charge, error) {
	f.called("Charge " + r.UserID + " " + r.ExperienceID + " " + r.PackageID + " " + r.IdempotencyKey)
	return f.charge, nil
}
func (f *fakeCredits) Confirm(_ context.Context, user, purchase, receipt string) (billing.ConfirmResult, error) {
	f.called("Confirm " + user + " " + purchase + " " + receipt)
	return f.confirm, f.confErr
}
func (f *fakeCredits) Return(context.Context, string, string) (billing.ReturnResult, error) {
	return billing.ReturnResult{}, errors.New("not in these tests")
}
func (f *fakeCredits) CheckModalOutcome(_ context.Context, user, purchase string) (billing.ModalOutcome, error) {
	f.called("CheckModalOutcome " + user + " " + purchase)
	return f.modal, nil
}
func (f *fakeCredits) Spend(_ context.Context, r billing.SpendRequest) (billing.Spent, error) {
	f.called("Spend " + r.UserID + " " + r.ExperienceID + " " + r.ItemID + " " + r.IdempotencyKey)
	return f.spent, f.spendE
}

func (f *fakeCredits) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// do sends one request as user (no token when "") and returns the status
// and the body.
func do(t *testing.T, s *Server, method, path, user, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, "http://app.test"+path, strings.NewReader(body))
	if user != "" {
		req.Header.Set(whop.HeaderUserToken, user)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func TestCreditsHandlersAgainstAFake(t *testing.T) {
	c := &fakeCredits{
		charge: billing.Charge{CheckoutID: "ch_1", PlanID: "plan_1", PurchaseID: goodPur, PurchaseURL: "https://whop.test/checkout/ch_1"},
		confirm: billing.ConfirmResult{Balance: 1250, Purchase: billing.Purchase{ID: goodPur, Credits: 100, PackageID: "starter",
			PaymentID: goodPay, Status: "paid"}},
		modal: billing.ModalOutcome{End: billing.ModalDeclined, Reason: "Your card was declined.", Balance: 40,
			Purchase: billing.Purchase{Credits: 100}},
		spent:  billing.Spent{ID: 7, ItemID: "sticker", Title: "Sticker", Cost: 5, BalanceAfter: 95},
		wallet: billing.Wallet{Items: []billing.Item{{ID: "sticker", Title: "Sticker pack", Cost: 5}}},
	}
	c.wallet.Balance = 1250
	s := New(Deps{Settings: Settings{AppID: "app_test"}, Tokens: anyToken{},
		Billing: Billing{Access: fakeAccess{}, Credits: c}})

	for _, tt := range []struct {
		name, method, path, user, body string
		status                         int
		reply                          string // exactly, as JSON
		calls                          []string
	}{
		{"charge", "POST", "/api/charge", "user_member", `{"experience_id":"` + goodExp + `","package":"starter","idempotency_key":"k-1"}`,
			200, `{"id":"ch_1","planId":"plan_1","purchase_id":"` + goodPur + `","purchase_url":"https://whop.test/checkout/ch_1"}`,
			[]string{"Charge user_member " + goodExp + " starter k-1"}},
		{"charge with a junk package never reaches billing", "POST", "/api/charge", "user_member", `{"experience_id":"` + goodExp + `","package":"st\u0000"}`,
			400, "", nil},
		{"confirm", "POST", "/api/purchases/" + goodPur + "/confirm", "user_member", `{"receipt_id":"` + goodPay + `"}`,
			200, `{"status":"paid","balance":1250,"purchase":{"id":"` + goodPur + `","credits":100,"package":"starter","payment_id":"` + goodPay + `"}}`,
			[]string{"Confirm user_member " + goodPur + " " + goodPay}},
		{"modal outcome", "POST", "/api/purchases/" + goodPur + "/outcome", "user_member", `{}`,
			200, `{"outcome":"declined","reason":"Your card was declined.","balance":40,"credits":100}`,
			[]string{"CheckModalOutcome user_member " + goodPur}},
		{"spend", "POST", "/api/spend", "user_member", `{"experience_id":"` + goodExp + `","item":"sticker","idempotency_key":"k-2"}`,
			200, `{"spend_id":7,"item":"sticker","title":"Sticker","cost":5,"balance":95,"replayed":false}`,
			[]string{"Spend user_member " + goodExp + " sticker k-2"}},
		{"no token", "POST", "/api/spend", "", `{"experience_id":"` + goodExp + `","item":"sticker","idempotency_key":"k-2"}`,
			401, "", nil},
	} {
		status, body := do(t, s, tt.method, tt.path, tt.user, tt.body)
		if status != tt.status || (tt.reply != "" && body != tt.reply) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, body, tt.status, tt.reply)
		}
		if got := c.take(); strings.Join(got, "|") != strings.Join(tt.calls, "|") {
			t.Errorf("%s: billing was asked %q, want %q", tt.name, got, tt.calls)
		}
	}

	// Whop still hides a brand-new payment: 202, processing.
	c.confErr = billing.ErrPaymentPending
	if status, body := do(t, s, "POST", "/api/purchases/"+goodPur+"/confirm", "user_member", `{"receipt_id":"`+goodPay+`"}`); status != 202 || body != `{"status":"processing"}` {
		t.Errorf("pending confirm: %d %s", status, body)
	}
	c.take()

	// Credits short: 409 with the balance, as billing's error says.
	c.spendE = &billing.InsufficientCreditsError{Balance: 3, Cost: 5}
	status, body := do(t, s, "POST", "/api/spend", "user_member", `{"experience_id":"`+goodExp+`","item":"sticker","idempotency_key":"k-3"}`)
	if want := `{"error":{"code":"insufficient_credits","message":"Not enough credits: your balance is 3 and this costs 5.","balance":3}}`; status != 409 || body != want {
		t.Errorf("short spend: %d %s, want 409 %s", status, body, want)
	}
	c.take()

	// The experience page shows billing's wallet.
	status, body = do(t, s, "GET", "/experiences/"+goodExp, "user_member", "")
	if status != 200 || !strings.Contains(body, "1,250") || !strings.Contains(body, "Sticker pack") || !strings.Contains(body, "$4.99") {
		t.Errorf("experience page: %d, want 200 with the balance 1,250, the item and the package's price", status)
	}
	if got := c.take(); len(got) != 1 || got[0] != "Wallet user_member "+goodExp {
		t.Errorf("experience page asked billing %q", got)
	}
	// Re-read by its own script after an action (app.js refresh), the page
	// asks for the wallet as premium decides it.
	req := httptest.NewRequest("GET", "http://app.test/experiences/"+goodExp, nil)
	req.Header.Set(whop.HeaderUserToken, "user_member")
	req.Header.Set("X-Creditkit-Refresh", "1")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if got := c.take(); rec.Code != 200 || len(got) != 1 || got[0] != "Wallet user_member "+goodExp+" fresh" {
		t.Errorf("refreshed experience page: %d, asked billing %q; want the fresh wallet", rec.Code, got)
	}

	// Access: the middleware's early answer keeps a stranger from billing;
	// and when billing decides no (the middleware let them by), its answer
	// stands.
	if status, _ := do(t, s, "GET", "/experiences/"+goodExp, "user_stranger", ""); status != 403 {
		t.Errorf("stranger: %d, want 403", status)
	}
	if got := c.take(); len(got) != 0 {
		t.Errorf("a stranger reached billing: %q", got)
	}
	c.walletE = billing.ErrNoAccess
	if status, _ := do(t, s, "GET", "/experiences/"+goodExp, "user_member", ""); status != 403 {
		t.Errorf("billing said no access: %d, want 403", status)
	}
}

// fakeVerifier accepts a delivery signed "good".
type fakeVerifier struct{}

func (fakeVerifier) Authenticate(h http.Header, body []byte) (whop.Delivery, error) {
	if h.Get("webhook-signature") != "good" {
		return whop.Delivery{}, errors.New("signature mismatch")
	}
	return whop.Delivery{ID: h.Get("webhook-id"), Scheme: whop.SchemeStandard}, nil
}

// fakeDeliveries answers with res (or err) and keeps what it was handed.
type fakeDeliveries struct {
	res  billing.Delivered
	err  error
	got  []string
	body []string
}

func (f *fakeDeliveries) Deliver(_ context.Context, del whop.Delivery, body []byte) (billing.Delivered, error) {
	f.got = append(f.got, del.ID)
	f.body = append(f.body, string(body))
	return f.res, f.err
}

func TestWebhookHandlerAgainstAFake(t *testing.T) {
	var logs bytes.Buffer
	d := &fakeDeliveries{}
	s := New(Deps{Settings: Settings{AppID: "app_test"}, Webhooks: fakeVerifier{}, Billing: Billing{Deliveries: d},
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	post := func(sig, id, body string) (int, string, string) {
		req := httptest.NewRequest("POST", "http://app.test/api/webhook", strings.NewReader(body))
		req.Header.Set("webhook-signature", sig)
		req.Header.Set("webhook-id", id)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, strings.TrimSpace(rec.Body.String()), rec.Header().Get("X-Request-Id")
	}
	line := func(msg string) map[string]any {
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
				return m
			}
		}
		t.Fatalf("no %q log line in:\n%s", msg, logs.String())
		return nil
	}

	// A delivery billing applied: its outcome goes back to Whop, and the
	// log line carries the request's id and route and the outcome's kind.
	d.res = billing.Delivered{Kind: billing.Applied, Type: "payment.succeeded", Outcome: "credited 100, took back 0"}
	status, body, reqID := post("good", "msg_1", `{"type":"payment.succeeded"}`)
	if status != 200 || body != `{"received":"msg_1","outcome":"credited 100, took back 0"}` {
		t.Errorf("applied: %d %s", status, body)
	}
	if len(d.got) != 1 || d.got[0] != "msg_1" || d.body[0] != `{"type":"payment.succeeded"}` {
		t.Errorf("billing was handed %q with %q", d.got, d.body)
	}
	m := line("webhook processed")
	for k, want := range map[string]any{"level": "INFO", "request_id": reqID, "route": "/api/webhook", "delivery_id": "msg_1",
		"type": "payment.succeeded", "kind": "applied", "outcome": "credited 100, took back 0"} {
		if m[k] != want {
			t.Errorf("log %s = %v, want %v (%v)", k, m[k], want, m)
		}
	}

	// A repeat is answered the same way, logged at debug only.
	logs.Reset()
	d.res = billing.Delivered{Kind: billing.Duplicate, Outcome: "duplicate"}
	if status, body, _ := post("good", "msg_1", `{}`); status != 200 || body != `{"received":"msg_1","outcome":"duplicate"}` {
		t.Errorf("duplicate: %d %s", status, body)
	}
	if m := line("webhook processed"); m["level"] != "DEBUG" || m["kind"] != "duplicate" {
		t.Errorf("duplicate logged as %v", m)
	}

	// A bad signature never reaches billing.
	d.got = nil
	if status, body, _ := post("bad", "msg_2", `{}`); status != 401 || !strings.Contains(body, `"code":"invalid_signature"`) {
		t.Errorf("bad signature: %d %s", status, body)
	}
	if len(d.got) != 0 {
		t.Errorf("billing was handed an unverified delivery: %q", d.got)
	}

	// A failure that may pass (the database unreachable) is a 5xx, so Whop
	// delivers again.
	d.err = errors.New("ledger: connection refused")
	if status, body, _ := post("good", "msg_3", `{}`); status != 500 || !strings.Contains(body, `"code":"internal"`) {
		t.Errorf("billing failed: %d %s, want 500", status, body)
	}
}
