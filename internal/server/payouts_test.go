package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
)

func (a *app) payout(body map[string]any) (int, map[string]any, string) {
	a.t.Helper()
	return a.call("POST", "/api/payouts", a.env.Seed.Admin.ID, body)
}

func payoutBody(key, amount string) map[string]any {
	return map[string]any{"company_id": "", "recipient": "alice", "amount": amount, "notes": "thanks", "idempotency_key": key}
}

func TestPayoutPaysOnceReplaysAndShowsInTheHistory(t *testing.T) {
	a := setup(t)
	creator, alice := a.env.Seed.Creator, a.env.Seed.Members[0]
	before := a.world()
	body := payoutBody("k-1", "12.50")
	body["company_id"] = creator.ID
	code, out, raw := a.payout(body)
	if code != 200 || out["replayed"] != false {
		t.Fatalf("payout: %d %s", code, raw)
	}
	po := out["payout"].(map[string]any)
	id := po["id"].(string)
	p, err := a.store.Payout(a.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	w := a.world()
	tr, ok := w.Transfers[p.TransferID]
	if !ok || len(w.Transfers) != len(before.Transfers)+1 {
		t.Fatalf("transfers at the sandbox: %d new, ours %v", len(w.Transfers)-len(before.Transfers), ok)
	}
	want := ledger.Payout{ID: id, CompanyID: creator.ID, RequestedBy: a.env.Seed.Admin.ID, RecipientInput: "alice",
		RecipientID: alice.ID, RecipientUsername: "alice", LedgerAccountID: creator.LedgerID, Amount: 1250, Currency: "usd",
		Fee: 25, ChargedFee: 25, Notes: "thanks", IdempotencyKey: "k-1", TransferKey: "creditkit:payout:" + id,
		Status: ledger.TransferPaid, TransferID: tr.ID, Attempts: 1, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, FinishedAt: p.FinishedAt}
	if p != want || p.FinishedAt.IsZero() || !strings.HasPrefix(id, "po_") {
		t.Fatalf("payout row = %+v\nwant %+v", p, want)
	}
	if tr.OriginLedger != creator.LedgerID || tr.DestinationID != alice.ID || tr.Amount != 1250 || tr.Fee != 25 ||
		tr.IdempotenceKey != "creditkit:payout:"+id || tr.Notes != "thanks" || tr.Metadata["creditkit_payout_id"] != id {
		t.Fatalf("transfer at the sandbox = %+v", tr)
	}
	if po["status"] != "paid" || po["amount"] != 1250.0 || po["fee"] != 25.0 || po["transfer_id"] != tr.ID ||
		po["recipient"].(map[string]any)["id"] != alice.ID {
		t.Fatalf("answer = %s", raw)
	}
	if got := w.ledgerBalance(creator.LedgerID); got != before.ledgerBalance(creator.LedgerID)-1275 {
		t.Fatalf("creator balance moved by %d, want 1275 (amount + fee)", before.ledgerBalance(creator.LedgerID)-got)
	}
	if got := w.balanceOf(alice.ID) - before.balanceOf(alice.ID); got != 1250 {
		t.Fatalf("alice received %d, want 1250", got)
	}

	// The same request again is answered with the first payout; nothing moves.
	code, out, _ = a.payout(body)
	if code != 200 || out["replayed"] != true || out["payout"].(map[string]any)["id"] != id {
		t.Fatalf("replay: %d %v", code, out)
	}
	body["amount"] = "13"
	code, out, _ = a.payout(body)
	if code != 409 || out["error"].(map[string]any)["code"] != "idempotency_conflict" {
		t.Fatalf("same key, other amount: %d %v", code, out)
	}
	// A JSON number and a user id work too.
	code, out, raw = a.payout(map[string]any{"company_id": creator.ID, "recipient": a.member(1), "amount": 3.5, "idempotency_key": "k-2"})
	if code != 200 || out["payout"].(map[string]any)["amount"] != 350.0 {
		t.Fatalf("number amount to a user id: %d %s", code, raw)
	}
	if w2 := a.world(); len(w2.Transfers) != len(before.Transfers)+2 || w2.ledgerBalance(creator.LedgerID) != before.ledgerBalance(creator.LedgerID)-1275-375 {
		t.Fatal("the sandbox moved more than the two payouts")
	}

	// The dashboard's form: a redirect to the history, with a notice.
	status, loc, _ := a.form("/dashboard/"+creator.ID+"/payouts", a.env.Seed.Admin.ID,
		url.Values{"recipient": {"@bob"}, "amount": {"$5"}, "notes": {""}, "idempotency_key": {"form-1"}})
	if status != 303 || !strings.HasPrefix(loc, "/dashboard/"+creator.ID+"?payout=po_") || !strings.HasSuffix(loc, "#payouts") {
		t.Fatalf("form: %d %q", status, loc)
	}
	_, page := a.get(loc, a.env.Seed.Admin.ID)
	pg := parsePage(t, page)
	formID := strings.TrimSuffix(strings.TrimPrefix(loc, "/dashboard/"+creator.ID+"?payout="), "#payouts")
	if pg.text("notice") != "Sent $5.00 to @bob." {
		t.Errorf("notice = %q", pg.text("notice"))
	}
	row := pg.cells("payout-" + id)
	if len(row) != 5 || row[1] != "@alice thanks" || row[2] != "$12.50" || row[3] != "$0.25" || row[4] != "Paid "+tr.ID {
		t.Errorf("history row = %q", row)
	}
	if !pg.has("payout-"+formID) || pg.text("payout-balance") != "$228.25" || pg.text("payout-fee") != "$0.25" {
		t.Errorf("history or balance: %q", pg.text("payout-balance"))
	}
	// The form posts to the dashboard, with a key that is fresh on every
	// rendering; the answer opens at the form (a refusal shows there).
	_, again := a.get("/dashboard/"+creator.ID, a.env.Seed.Admin.ID)
	k1, k2 := pg.attr("payout-key", "value"), parsePage(t, again).attr("payout-key", "value")
	if pg.attr("payout-form", "action") != "/dashboard/"+creator.ID+"/payouts#payouts" || !strings.HasPrefix(k1, "form-") || k1 == k2 {
		t.Errorf("form action %q, keys %q and %q", pg.attr("payout-form", "action"), k1, k2)
	}
}

func TestPayoutRefusesBadRequestsAndSendsNothing(t *testing.T) {
	a := setup(t)
	creator := a.env.Seed.Creator.ID
	before := a.world()
	tests := []struct {
		name           string
		body           map[string]any
		status         int
		code, contains string
	}{
		{"zero", map[string]any{"amount": "0"}, 400, "invalid_amount", "more than zero"},
		{"negative", map[string]any{"amount": "-5"}, 400, "invalid_amount", "more than zero"},
		{"malformed", map[string]any{"amount": "ten"}, 400, "invalid_amount", "such as 12.50"},
		{"sub-cent", map[string]any{"amount": "1.005"}, 400, "invalid_amount", "decimal places"},
		{"missing amount", map[string]any{"amount": nil}, 400, "invalid_amount", ""},
		{"over the balance with the fee", map[string]any{"amount": "249.76"}, 422, "insufficient_balance",
			"balance of $250.00 does not cover $249.76 plus the $0.25 transfer fee"},
		// The largest amount an int64 holds in cents: adding the fee to it
		// wrapped below zero, under the balance, and the payout was sent.
		{"the largest amount, whose fee would wrap", map[string]any{"amount": "92233720368547758.07"}, 422, "insufficient_balance",
			"balance of $250.00 does not cover $92,233,720,368,547,758.07 plus the $0.25 transfer fee"},
		{"unknown user", map[string]any{"recipient": "nobody_here"}, 422, "unknown_recipient", "no user"},
		{"no recipient", map[string]any{"recipient": " "}, 400, "invalid_recipient", ""},
		{"no key", map[string]any{"idempotency_key": ""}, 400, "invalid_idempotency_key", ""},
		{"long notes", map[string]any{"notes": strings.Repeat("n", 51)}, 400, "invalid_notes", "50"},
		{"no company", map[string]any{"company_id": ""}, 400, "missing_field", "company_id"},
		{"unknown field", map[string]any{"fee": 0}, 400, "invalid_json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"company_id": creator, "recipient": "alice", "amount": "1.00", "idempotency_key": "k-" + tt.name}
			for k, v := range tt.body {
				body[k] = v
			}
			code, out, raw := a.payout(body)
			e, _ := out["error"].(map[string]any)
			if code != tt.status || e["code"] != tt.code || !strings.Contains(e["message"].(string), tt.contains) {
				t.Fatalf("%d %s, want %d %s %q", code, raw, tt.status, tt.code, tt.contains)
			}
		})
	}
	// The balance exactly covering amount plus fee is fine: 249.75 + 0.25 = 250.
	code, _, raw := a.payout(map[string]any{"company_id": creator, "recipient": "alice", "amount": "249.75", "idempotency_key": "all"})
	if code != 200 {
		t.Fatalf("the whole balance: %d %s", code, raw)
	}
	if n := a.count(`SELECT count(*) FROM payouts`); n != 1 {
		t.Fatalf("payouts recorded = %d, want only the valid one", n)
	}
	if w := a.world(); len(w.Transfers) != len(before.Transfers)+1 || w.ledgerBalance(a.env.Seed.Creator.LedgerID) != 0 {
		t.Fatalf("sandbox after: %d new transfers, balance %d", len(w.Transfers)-len(before.Transfers), w.ledgerBalance(a.env.Seed.Creator.LedgerID))
	}
	// The form shows the reason and keeps what was typed.
	status, _, page := a.form("/dashboard/"+creator+"/payouts", a.env.Seed.Admin.ID,
		url.Values{"recipient": {"alice"}, "amount": {"1.00"}, "notes": {"hi"}, "idempotency_key": {"f"}})
	p := parsePage(t, page)
	if status != 422 || !strings.Contains(p.text("payout-error"), "does not cover $1.00 plus the $0.25 transfer fee") ||
		p.attr("payout-form", "action") == "" || !strings.Contains(page, `value="alice"`) || !strings.Contains(page, `value="hi"`) {
		t.Fatalf("form error: %d %q", status, p.text("payout-error"))
	}
}
