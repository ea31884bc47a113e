package whopsim_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

func (b *bundle) balance(owner string) string {
	b.t.Helper()
	return str(b.t, b.mustAPI("GET", "/api/v1/ledger_accounts/"+owner, nil), "balances.0.balance")
}

// awaitState polls the sandbox's state until ok holds of it, for up to ten
// seconds: what a slow request has done so far is read off the sandbox,
// never assumed from a sleep a loaded machine may outlast.
func (b *bundle) awaitState(what string, ok func(state any) bool) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, state, _ := b.do("GET", "/_sim/state", nil); ok(state) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the sandbox's state never showed %s in 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idemKey is the sandbox's record of an Idempotency-Key in its state, if it
// holds one.
func idemKey(state any, key string) (rec map[string]any, held bool) {
	keys, _ := state.(map[string]any)["idempotency"].(map[string]any)
	rec, held = keys[key].(map[string]any)
	return rec, held
}

// claimed says the sandbox holds key for a request still being processed.
func claimed(key string) func(any) bool {
	return func(state any) bool {
		rec, held := idemKey(state, key)
		return held && rec["done"] == false
	}
}

// postAsync sends a transfer in the background under ctx; its status (0
// when the client gave up) arrives on the channel.
func (b *bundle) postAsync(ctx context.Context, path, body string, header ...string) <-chan int {
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", b.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	return done
}

func TestLedgerAccounts(t *testing.T) {
	b := setup(t)
	for _, id := range []string{b.Seed.Owner.ID, b.Seed.Owner.LedgerID} {
		out := b.mustAPI("GET", "/api/v1/ledger_accounts/"+id, nil)
		fields(t, out, map[string]string{"id": b.Seed.Owner.LedgerID, "ledger_type": "primary",
			"transfer_fee": "0.25", "owner.typename": "Company", "owner.id": b.Seed.Owner.ID, "owner.title": "Creditkit Labs",
			"balances.0.balance": "1000", "balances.0.currency": "usd", "balances.0.pending_balance": "0",
			"balances.0.reserve_balance": "0", "payments_approval_status": "approved"})
	}
	user := b.mustAPI("GET", "/api/v1/ledger_accounts/"+b.Seed.Admin.ID, nil)
	fields(t, user, map[string]string{"owner.typename": "User", "owner.id": b.Seed.Admin.ID, "owner.username": "casey",
		"balances.0.balance": "0", "transfer_fee": "0"})
	if !strings.HasPrefix(str(t, user, "id"), "ldgr_") {
		t.Errorf("user ledger id = %s", str(t, user, "id"))
	}
	if status, _ := b.api("GET", "/api/v1/ledger_accounts/ldgr_nope", nil); status != 404 {
		t.Errorf("unknown ledger = %d, want 404", status)
	}
}

func TestTransferMovesBalanceAndChargesTheFee(t *testing.T) {
	b := setup(t)
	out := b.mustAPI("POST", "/api/v1/transfers", map[string]any{"amount": 12.5, "currency": "usd",
		"origin_id": b.Seed.Owner.ID, "destination_id": b.Seed.Admin.ID, "notes": "revenue share",
		"idempotence_key": "payout_1", "metadata": map[string]any{"payout_id": "po_1"}})
	fields(t, out, map[string]string{"object": "transfer", "status": "succeeded", "amount": "12.5", "currency": "usd",
		"fee_amount": "0.25", "notes": "revenue share", "metadata.payout_id": "po_1",
		"origin.typename": "Company", "origin.id": b.Seed.Owner.ID, "origin_ledger_account_id": b.Seed.Owner.LedgerID,
		"destination.typename": "User", "destination.id": b.Seed.Admin.ID, "destination.username": "casey",
		"created_at": "2026-03-02T12:00:00.000Z"})
	id := str(t, out, "id")
	if !strings.HasPrefix(id, "ctt_") || len(id) != len("ctt_")+14 {
		t.Errorf("transfer id = %q", id)
	}
	if got := b.balance(b.Seed.Owner.ID); got != "987.25" {
		t.Errorf("origin balance = %s, want 1000 - 12.50 - 0.25", got)
	}
	if got := b.balance(b.Seed.Admin.ID); got != "12.5" {
		t.Errorf("destination balance = %s, want 12.5", got)
	}
	if got := b.mustAPI("GET", "/api/v1/transfers/"+id, nil); str(t, got, "amount") != "12.5" {
		t.Errorf("GET transfer = %v", got)
	}
	// A ledger id and a company id both work as ends.
	b.mustAPI("POST", "/api/v1/transfers", map[string]any{"amount": 1, "currency": "usd",
		"origin_id": b.Seed.Creator.LedgerID, "destination_id": b.Seed.Owner.ID})
	if got := b.balance(b.Seed.Creator.ID); got != "248.75" {
		t.Errorf("creator balance = %s, want 250 - 1 - 0.25", got)
	}
}

func TestTransferRefusals(t *testing.T) {
	b := setup(t)
	base := func(change map[string]any) map[string]any {
		m := map[string]any{"amount": 5, "currency": "usd", "origin_id": b.Seed.Owner.ID, "destination_id": b.Seed.Admin.ID}
		for k, v := range change {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"more than the balance", base(map[string]any{"amount": 999.9}), 400, "insufficient_balance"},
		{"the balance but not the fee", base(map[string]any{"amount": 1000}), 400, "insufficient_balance"},
		// The largest int64 in cents: plus the fee it wrapped under the balance.
		{"the largest amount", base(map[string]any{"amount": json.Number("92233720368547758.07")}), 400, "insufficient_balance"},
		{"unknown destination", base(map[string]any{"destination_id": "user_nope"}), 404, "not_found"},
		{"unknown origin", base(map[string]any{"origin_id": "biz_nope"}), 404, "not_found"},
		{"no currency", base(map[string]any{"currency": ""}), 400, "invalid_request"},
		{"other currency", base(map[string]any{"currency": "eur"}), 400, "invalid_request"},
		{"zero", base(map[string]any{"amount": 0}), 400, "invalid_request"},
		{"to itself", base(map[string]any{"destination_id": b.Seed.Owner.LedgerID}), 400, "invalid_request"},
	}
	for _, tt := range tests {
		status, out := b.api("POST", "/api/v1/transfers", tt.body)
		if status != tt.status || str(t, out, "error.code") != tt.code {
			t.Errorf("%s: %d %v, want %d %s", tt.name, status, out, tt.status, tt.code)
		}
	}
	if got := b.balance(b.Seed.Owner.ID); got != "1000" {
		t.Errorf("refused transfers moved money: balance %s", got)
	}
}

func TestTransferIdempotenceKey(t *testing.T) {
	b := setup(t)
	body := map[string]any{"amount": 10, "currency": "usd", "origin_id": b.Seed.Owner.ID,
		"destination_id": b.Seed.Admin.ID, "idempotence_key": "payout_42"}
	first := b.mustAPI("POST", "/api/v1/transfers", body)
	replay := b.mustAPI("POST", "/api/v1/transfers", body)
	if str(t, replay, "id") != str(t, first, "id") {
		t.Errorf("replay id %s, want the original %s", str(t, replay, "id"), str(t, first, "id"))
	}
	if got := b.balance(b.Seed.Owner.ID); got != "989.75" {
		t.Errorf("balance after a replay = %s, want one transfer taken (989.75)", got)
	}
	body["amount"] = 11
	status, out := b.api("POST", "/api/v1/transfers", body)
	if status != 400 || str(t, out, "error.code") != "idempotency_key_mismatch" {
		t.Errorf("same key, other amount = %d %v, want 400 idempotency_key_mismatch", status, out)
	}
}

func TestIdempotencyKeyHeader(t *testing.T) {
	b := setup(t)
	body := `{"amount": 3, "currency": "usd", "origin_id": "` + b.Seed.Owner.ID + `", "destination_id": "` + b.Seed.Admin.ID + `"}`
	key := []string{"Authorization", "Bearer " + b.Seed.App.APIKey, "Idempotency-Key", "idem-1"}
	status, first, h := b.do("POST", "/api/v1/transfers", body, key...)
	if status != 200 || h.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first = %d %v (replayed %q)", status, first, h.Get("Idempotent-Replayed"))
	}
	status, again, h := b.do("POST", "/api/v1/transfers", body, key...)
	if status != 200 || h.Get("Idempotent-Replayed") != "true" || str(t, again, "id") != str(t, first, "id") {
		t.Errorf("replay = %d %v replayed=%q, want the first response again", status, again, h.Get("Idempotent-Replayed"))
	}
	if got := b.balance(b.Seed.Owner.ID); got != "996.75" {
		t.Errorf("balance = %s, want one transfer of 3 + 0.25", got)
	}
	status, out, _ := b.do("POST", "/api/v1/transfers", strings.Replace(body, `"amount": 3`, `"amount": 4`, 1), key...)
	if status != 400 || str(t, out, "error.code") != "idempotency_key_mismatch" {
		t.Errorf("same key, other body = %d %v, want 400 idempotency_key_mismatch", status, out)
	}
	// A 4xx is remembered too, and replayed.
	bad := `{"amount": 1}`
	key[3] = "idem-2"
	s1, _, _ := b.do("POST", "/api/v1/transfers", bad, key...)
	s2, _, h2 := b.do("POST", "/api/v1/transfers", bad, key...)
	if s1 != 400 || s2 != 400 || h2.Get("Idempotent-Replayed") != "true" {
		t.Errorf("4xx replay: %d then %d replayed=%q", s1, s2, h2.Get("Idempotent-Replayed"))
	}
	key[3] = strings.Repeat("k", 256)
	if s, _, _ := b.do("POST", "/api/v1/transfers", body, key...); s != http.StatusBadRequest {
		t.Errorf("a 256-byte key = %d, want 400", s)
	}
}

func TestIdempotencyKeyInFlight(t *testing.T) {
	b := setup(t)
	// Long enough that the first request is still running whenever the
	// second comes, however slow the machine; it is awaited once.
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.APILatencyMS = 3000 })
	body := `{"amount": 1, "currency": "usd", "origin_id": "` + b.Seed.Owner.ID + `", "destination_id": "` + b.Seed.Admin.ID + `"}`
	key := []string{"Authorization", "Bearer " + b.Seed.App.APIKey, "Idempotency-Key", "slow-1"}
	done := b.postAsync(context.Background(), "/api/v1/transfers", body, key...)
	b.awaitState("slow-1 claimed by the first request", claimed("slow-1"))
	status, out, _ := b.do("POST", "/api/v1/transfers", body, key...)
	if status != http.StatusConflict || str(t, out, "error.code") != "idempotency_request_in_progress" {
		t.Errorf("concurrent same key = %d %v, want 409 idempotency_request_in_progress", status, out)
	}
	if first := <-done; first != http.StatusOK {
		t.Errorf("the first request = %d, want 200", first)
	}
	b.Sim.SetFaults(whopsim.Faults{})
	if got := b.balance(b.Seed.Owner.ID); got != "998.75" {
		t.Errorf("origin balance = %s, want 1000 - 1 - 0.25 (one transfer)", got)
	}
}

// TestIdempotencyKeyAbandonedRequest is a client timing out while the API
// is slow: the request did nothing, so its key must not replay an empty
// answer; the retry transfers, once.
func TestIdempotencyKeyAbandonedRequest(t *testing.T) {
	b := setup(t)
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.APILatencyMS = 30_000 })
	body := `{"amount": 2, "currency": "usd", "origin_id": "` + b.Seed.Owner.ID + `", "destination_id": "` + b.Seed.Admin.ID +
		`", "idempotence_key": "abandon-1"}`
	key := []string{"Authorization", "Bearer " + b.Seed.App.APIKey, "Idempotency-Key", "abandon-1"}
	// The client gives up once the sandbox has claimed the key, inside the
	// latency; the abandoned handler then lets the key go.
	ctx, giveUp := context.WithCancel(context.Background())
	defer giveUp()
	first := b.postAsync(ctx, "/api/v1/transfers", body, key...)
	b.awaitState("abandon-1 claimed by the first request", claimed("abandon-1"))
	giveUp()
	if status := <-first; status != 0 {
		t.Fatalf("the abandoned request answered %d", status)
	}
	b.awaitState("abandon-1 let go by the abandoned request", func(state any) bool {
		_, held := idemKey(state, "abandon-1")
		return !held
	})
	b.Sim.SetFaults(whopsim.Faults{})
	send := func() (int, string) {
		status, _, h := b.do("POST", "/api/v1/transfers", body, key...)
		return status, h.Get("Idempotent-Replayed")
	}
	if status, replayed := send(); status != http.StatusOK || replayed != "" {
		t.Fatalf("retry = %d replayed=%q, want a fresh 200", status, replayed)
	}
	if got := b.balance(b.Seed.Owner.ID); got != "997.75" {
		t.Errorf("origin balance = %s, want 1000 - 2 - 0.25 (one transfer)", got)
	}
	if status, replayed := send(); status != http.StatusOK || replayed != "true" {
		t.Errorf("a second retry = %d replayed=%q, want the first answer replayed", status, replayed)
	}
	if got := b.balance(b.Seed.Owner.ID); got != "997.75" {
		t.Errorf("origin balance after the replay = %s, want unchanged", got)
	}
}

// TestTransferLatencyAndHangFaults: transfer_latency_ms slows POST
// /transfers alone (a ledger read stays quick), and transfer_hang_rate makes
// the sandbox move the money and never answer, until the client gives up;
// the client's retry with the same key then gets that transfer back, and
// the money moved once.
func TestTransferLatencyAndHangFaults(t *testing.T) {
	logged := &logLines{}
	b := setup(t, func(o *whopsim.Options) { o.Logger = slog.New(slog.NewTextHandler(logged, nil)) })
	transfer := func(key string, timeout time.Duration) (int, any, time.Duration) {
		t.Helper()
		client := &http.Client{Timeout: timeout}
		body := strings.NewReader(`{"amount": 2, "currency": "usd", "origin_id": "` + b.Seed.Owner.ID +
			`", "destination_id": "` + b.Seed.Admin.ID + `", "idempotence_key": "` + key + `"}`)
		req, _ := http.NewRequest("POST", b.APIBase+"/transfers", body)
		req.Header.Set("Authorization", "Bearer "+b.Seed.App.APIKey)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, err.Error(), time.Since(start)
		}
		defer res.Body.Close()
		var out any
		json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out, time.Since(start)
	}

	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.TransferLatencyMS = 300 })
	status, out, took := transfer("slow", 5*time.Second)
	if status != 200 || took < 300*time.Millisecond {
		t.Fatalf("slow transfer: %d %v after %v, want 200 after at least 300 ms", status, out, took)
	}
	// A ledger read does not pay the transfers' latency: at 30 s, a read
	// that did could not answer within the 10 s allowed it.
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.TransferLatencyMS = 30_000 })
	start := time.Now()
	if got := b.balance(b.Seed.Admin.ID); got != "2" || time.Since(start) > 10*time.Second {
		t.Fatalf("a ledger read during the transfer latency: %s after %v", got, time.Since(start))
	}
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.TransferLatencyMS = 300 })
	// The client gives up during the latency: nothing is transferred.
	if status, out, _ := transfer("abandoned", 100*time.Millisecond); status != 0 {
		t.Fatalf("a transfer abandoned during the latency answered %d %v", status, out)
	}
	// The sandbox says when the abandoned request ended, so the balance is
	// read after it, however slow the machine: a handler that went on to
	// move the money would never say so, and the wait fails.
	logged.await(t, `msg="whopsim: transfer abandoned by its client`, "idempotence_key=abandoned")
	if got := b.balance(b.Seed.Admin.ID); got != "2" {
		t.Fatalf("balance after an abandoned transfer = %s, want 2", got)
	}

	// The client hangs up once the sandbox has made the transfer (its key
	// is in the state), whenever that is.
	b.Sim.SetFaults(whopsim.Faults{TransferHangRate: 1})
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp() // a failed wait below must not leave the request held open
	hung := b.postAsync(ctx, "/api/v1/transfers", `{"amount": 2, "currency": "usd", "origin_id": "`+b.Seed.Owner.ID+
		`", "destination_id": "`+b.Seed.Admin.ID+`", "idempotence_key": "hung"}`, "Authorization", "Bearer "+b.Seed.App.APIKey)
	b.awaitState("the hung transfer made", func(state any) bool {
		keys, _ := state.(map[string]any)["transfer_keys"].(map[string]any)
		return keys["hung"] != nil
	})
	select {
	case status := <-hung:
		t.Fatalf("the hung transfer answered %d", status)
	case <-time.After(100 * time.Millisecond):
	}
	hangUp()
	if status := <-hung; status != 0 {
		t.Fatalf("hung transfer answered %d after the client hung up", status)
	}
	if got := b.balance(b.Seed.Admin.ID); got != "4" {
		t.Fatalf("balance after the hung transfer = %s, want 4: the money moved", got)
	}
	faults := b.mustAPI("GET", "/_sim/faults", nil)
	fields(t, faults, map[string]string{"transfer_hang_rate": "1", "transfer_latency_ms": "0"})
	b.Sim.SetFaults(whopsim.Faults{})
	status, out, _ = transfer("hung", 5*time.Second)
	if status != 200 {
		t.Fatalf("retry of the hung transfer: %d %v", status, out)
	}
	if got := b.balance(b.Seed.Admin.ID); got != "4" {
		t.Fatalf("balance after the retry = %s, want 4: the retry moved money again", got)
	}
	_, state, _ := b.do("GET", "/_sim/state", nil)
	transfers, _ := state.(map[string]any)["transfers"].(map[string]any)
	if id := str(t, state, "transfer_keys.hung"); id == "" || str(t, out, "id") != id || len(transfers) != 2 {
		t.Fatalf("retry answered %v, the sandbox holds %d transfers (key hung -> %q)", out, len(transfers), id)
	}
}

// logLines keeps every line a slog handler writes, for a test to wait on.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

// await waits up to ten seconds for a line holding every one of parts.
func (l *logLines) await(t *testing.T, parts ...string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		l.mu.Lock()
		lines := l.lines
		l.mu.Unlock()
		for _, line := range lines {
			found := true
			for _, p := range parts {
				found = found && strings.Contains(line, p)
			}
			if found {
				return
			}
		}
	}
	t.Fatalf("the sandbox logged no line with %q in 10 s", parts)
}

// TestIdempotencyKeyHungTransfer: a transfer made under an Idempotency-Key
// whose answer hangs (transfer_hang_rate) until the client gives up was
// carried out, so the key keeps its answer: the retry with the key is that
// transfer replayed, and the money moved once.
func TestIdempotencyKeyHungTransfer(t *testing.T) {
	b := setup(t)
	b.Sim.SetFaults(whopsim.Faults{TransferHangRate: 1})
	body := `{"amount": 2, "currency": "usd", "origin_id": "` + b.Seed.Owner.ID + `", "destination_id": "` + b.Seed.Admin.ID + `"}`
	key := []string{"Authorization", "Bearer " + b.Seed.App.APIKey, "Idempotency-Key", "hung-1"}
	transfers := func(state any) map[string]any {
		m, _ := state.(map[string]any)["transfers"].(map[string]any)
		return m
	}
	ctx, giveUp := context.WithCancel(context.Background())
	defer giveUp()
	hung := b.postAsync(ctx, "/api/v1/transfers", body, key...)
	b.awaitState("the hung transfer made", func(state any) bool { return len(transfers(state)) == 1 })
	giveUp()
	if status := <-hung; status != 0 {
		t.Fatalf("the hung transfer answered %d", status)
	}
	// The held handler ends once it sees the client gone; the key is then
	// settled one way or the other.
	b.awaitState("hung-1 no longer in flight", func(state any) bool { return !claimed("hung-1")(state) })
	b.Sim.SetFaults(whopsim.Faults{})
	status, out, h := b.do("POST", "/api/v1/transfers", body, key...)
	if status != http.StatusOK || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry = %d %v replayed=%q, want the hung transfer replayed", status, out, h.Get("Idempotent-Replayed"))
	}
	_, state, _ := b.do("GET", "/_sim/state", nil)
	made := transfers(state)
	if len(made) != 1 || made[str(t, out, "id")] == nil {
		t.Errorf("retry answered %v; the sandbox holds %d transfers, want the one made", out, len(made))
	}
	if got := b.balance(b.Seed.Admin.ID); got != "2" {
		t.Errorf("destination balance = %s, want 2 (one transfer)", got)
	}
}

// TestPaymentInAnotherCurrencyHasItsOwnBalance: a payment in euros credits
// the seller's euro balance, not its dollars, and its refund takes euros
// back; the ledger account lists one balance per currency, as Whop's does.
func TestPaymentInAnotherCurrencyHasItsOwnBalance(t *testing.T) {
	b := setup(t)
	co := b.mustAPI("POST", "/api/v1/checkout_configurations", map[string]any{
		"plan": map[string]any{"company_id": b.Seed.Owner.ID, "currency": "eur", "initial_price": json.Number("10"), "plan_type": "one_time"}})
	res, err := b.Sim.Pay(whopsim.Purchase{CheckoutID: str(t, co, "id"), PlanID: str(t, co, "plan.id"), UserID: b.Seed.Members[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	net := str(t, b.mustAPI("GET", "/api/v1/payments/"+res.ReceiptID, nil), "amount_after_fees")
	ledger := b.mustAPI("GET", "/api/v1/ledger_accounts/"+b.Seed.Owner.ID, nil)
	fields(t, ledger, map[string]string{"balances.0.currency": "usd", "balances.0.balance": "1000",
		"balances.1.currency": "eur", "balances.1.balance": net})
	if err := b.Sim.Refund(res.ReceiptID, 0); err != nil {
		t.Fatal(err)
	}
	ledger = b.mustAPI("GET", "/api/v1/ledger_accounts/"+b.Seed.Owner.ID, nil)
	fields(t, ledger, map[string]string{"balances.0.balance": "1000", "balances.1.currency": "eur"})
	if got, want := str(t, ledger, "balances.1.balance"), "-0.6"; net != "9.4" || got != want {
		t.Errorf("euro balance after the refund = %s (net %s), want %s: the refund of 10 takes the fee too", got, net, want)
	}
}
