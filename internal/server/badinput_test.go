package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
)

// whopCalls counts the requests the app sends to Whop's API, and those
// that read a payment.
type whopCalls struct{ n, payments atomic.Int64 }

func (c *whopCalls) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if strings.Contains(req.URL.Path, "/payments/") {
		c.payments.Add(1)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// withWhopCalls counts the app's calls to Whop in c.
func withWhopCalls(c *whopCalls) appOption {
	return withClient(whop.WithHTTPClient(&http.Client{Transport: c, Timeout: 10 * time.Second}))
}

// send posts or gets raw bytes as user, for bodies json.Marshal would repair.
func (a *app) send(method, path, user string, body []byte) (int, map[string]any, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatalf("%s %q: %v", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	tok, err := a.sim.Token(user)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set(whop.HeaderUserToken, tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %q: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return res.StatusCode, out, string(raw)
}

// TestBadInputIs4xxAtOnceAndChangesNothing sends each input the outside
// check found answered with a 500 or accepted, plus their neighbours: every
// one is a 400 naming the field, answered without one call to Whop or a
// moment of polling, and no row of the database changes.
func TestBadInputIs4xxAtOnceAndChangesNothing(t *testing.T) {
	calls := &whopCalls{}
	a := setup(t, withWhopCalls(calls))
	member, admin := a.member(0), a.env.Seed.Admin.ID
	exp, creator := a.experience(), a.env.Seed.Creator.ID

	// A real receipt whose purchase is still pending: the webhook is held,
	// so a confirm with this receipt would poll Whop and credit it.
	a.holdWebhooks()
	ch, plan, pur := a.charge(member, "starter")
	receipt := a.pay(ch, plan, member)
	confirmPath := "/api/purchases/" + pur + "/confirm"

	spend := func(item, key string) []byte {
		return jsonBody(t, map[string]string{"experience_id": exp, "item": item, "idempotency_key": key})
	}
	charge := func(pkg, key string) []byte {
		return jsonBody(t, map[string]string{"experience_id": exp, "package": pkg, "idempotency_key": key})
	}
	payout := func(change map[string]any) []byte {
		body := map[string]any{"company_id": creator, "recipient": "alice", "amount": "1.00", "notes": "thanks", "idempotency_key": "k-1"}
		for k, v := range change {
			body[k] = v
		}
		return jsonBody(t, body)
	}
	confirm := func(receiptID string) []byte { return jsonBody(t, map[string]string{"receipt_id": receiptID}) }
	const exponentMessage = "Write the amount in plain digits, such as 100.00: exponent notation like 1e2 is not accepted."

	tests := []struct {
		name, method, path, user string
		body                     []byte
		code, message            string // message: a part of it, "" for any
	}{
		{"spend item with NUL", "POST", "/api/spend", member, spend("sticker\x00", "s-1"), "invalid_item", "item must be"},
		{"spend key with NUL", "POST", "/api/spend", member, spend("sticker", "s-1\x00"), "invalid_idempotency_key", "printable ASCII"},
		{"spend key with a newline", "POST", "/api/spend", member, spend("sticker", "s-1\n"), "invalid_idempotency_key", ""},
		{"spend key too long", "POST", "/api/spend", member, spend("sticker", strings.Repeat("k", 256)), "invalid_idempotency_key", "255"},
		{"spend in a company", "POST", "/api/spend", member,
			jsonBody(t, map[string]string{"experience_id": creator, "item": "sticker", "idempotency_key": "s-2"}), "invalid_experience_id", "exp_"},
		{"charge key with NUL", "POST", "/api/charge", member, charge("starter", "c-1\x00"), "invalid_idempotency_key", ""},
		{"charge package with NUL", "POST", "/api/charge", member, charge("starter\x00", "c-2"), "invalid_package", ""},
		{"charge experience with junk", "POST", "/api/charge", member,
			jsonBody(t, map[string]string{"experience_id": exp + "'--", "package": "starter"}), "invalid_experience_id", ""},
		{"payout key with NUL", "POST", "/api/payouts", admin, payout(map[string]any{"idempotency_key": "p-1\x00"}), "invalid_idempotency_key", ""},
		{"payout notes with NUL", "POST", "/api/payouts", admin, payout(map[string]any{"notes": "thanks\x00"}), "invalid_notes", "control characters"},
		{"payout notes with a direction override", "POST", "/api/payouts", admin, payout(map[string]any{"notes": "\u202Esknaht"}), "invalid_notes", ""},
		{"payout recipient with NUL", "POST", "/api/payouts", admin, payout(map[string]any{"recipient": "alice\x00"}), "invalid_recipient", ""},
		{"payout company with NUL", "POST", "/api/payouts", admin, payout(map[string]any{"company_id": creator + "\x00"}), "invalid_company_id", ""},
		{"payout amount 1e2 as a string", "POST", "/api/payouts", admin, payout(map[string]any{"amount": "1e2"}), "invalid_amount", exponentMessage},
		{"payout amount 1e2 as a number", "POST", "/api/payouts", admin, payout(map[string]any{"amount": json.Number("1e2")}), "invalid_amount", exponentMessage},
		{"payout amount 1E+2", "POST", "/api/payouts", admin, payout(map[string]any{"amount": json.Number("1E+2")}), "invalid_amount", exponentMessage},
		{"payout amount with NUL", "POST", "/api/payouts", admin, payout(map[string]any{"amount": "1.00\x00"}), "invalid_amount", ""},
		{"confirm purchase id with %00", "POST", "/api/purchases/" + pur + "%00/confirm", member, confirm(receipt), "invalid_purchase_id", "pur_"},
		{"confirm purchase id with a space", "POST", "/api/purchases/" + pur + "%20/confirm", member, confirm(receipt), "invalid_purchase_id", ""},
		{"receipt with NUL", "POST", confirmPath, member, confirm(receipt + "\x00"), "invalid_receipt_id", "pay_"},
		{"receipt with control characters", "POST", confirmPath, member, confirm(receipt + "\x01\x1f\x7f"), "invalid_receipt_id", ""},
		{"receipt with a tab", "POST", confirmPath, member, confirm(receipt + "\t"), "invalid_receipt_id", ""},
		{"receipt with a newline", "POST", confirmPath, member, confirm(receipt + "\n"), "invalid_receipt_id", ""},
		{"receipt with a space", "POST", confirmPath, member, confirm(receipt + " "), "invalid_receipt_id", ""},
		{"receipt with a leading space", "POST", confirmPath, member, confirm(" " + receipt), "invalid_receipt_id", ""},
		{"receipt with SQL", "POST", confirmPath, member, confirm(receipt + "' OR '1'='1"), "invalid_receipt_id", ""},
		{"receipt with SQL after a comment", "POST", confirmPath, member, confirm(receipt + "';DROP TABLE purchases;--"), "invalid_receipt_id", ""},
		{"receipt with a byte-order mark", "POST", confirmPath, member, confirm(receipt + "\uFEFF"), "invalid_receipt_id", ""},
		{"receipt after a byte-order mark", "POST", confirmPath, member, confirm("\uFEFF" + receipt), "invalid_receipt_id", ""},
		{"receipt with a zero-width space", "POST", confirmPath, member, confirm(receipt + "\u200B"), "invalid_receipt_id", ""},
		{"receipt prefix only", "POST", confirmPath, member, confirm("pay_"), "invalid_receipt_id", ""},
		{"receipt of a purchase", "POST", confirmPath, member, confirm(pur), "invalid_receipt_id", ""},
		{"receipt too long", "POST", confirmPath, member, confirm("pay_" + strings.Repeat("A", 100)), "invalid_receipt_id", ""},
		{"body not UTF-8", "POST", confirmPath, member, []byte(`{"receipt_id":"` + receipt + "\xff" + `"}`), "invalid_json", "UTF-8"},
		{"body with a byte-order mark", "POST", "/api/spend", member, append([]byte("\uFEFF"), spend("sticker", "s-3")...), "invalid_json", ""},
		// What encoding/json let through: a stray bracket after the object,
		// a name twice (the last won), a name in other case (it matched the
		// field), a lone surrogate escape (stored as U+FFFD).
		{"spend with a bracket after the object", "POST", "/api/spend", member, append(spend("sticker", "s-4"), ']'), "invalid_json", "nothing after it"},
		{"spend with a brace after the object", "POST", "/api/spend", member, append(spend("sticker", "s-4"), "}}"...), "invalid_json", "nothing after it"},
		{"charge naming the package twice", "POST", "/api/charge", member,
			[]byte(`{"experience_id":"` + exp + `","package":"starter","package":"pro","idempotency_key":"c-3"}`), "invalid_json", `duplicate object member name at "/package"`},
		{"charge naming the package in capitals", "POST", "/api/charge", member,
			[]byte(`{"experience_id":"` + exp + `","package":"starter","PACKAGE":"pro","idempotency_key":"c-4"}`), "invalid_json", `unknown member at "/PACKAGE"`},
		{"payout notes with a lone surrogate", "POST", "/api/payouts", admin,
			[]byte(`{"company_id":"` + creator + `","recipient":"alice","amount":"1.00","notes":"\ud800","idempotency_key":"p-2"}`), "invalid_json", "surrogate"},
		{"spend with a number for the item", "POST", "/api/spend", member,
			[]byte(`{"experience_id":"` + exp + `","item":7,"idempotency_key":"s-5"}`), "invalid_json", `the member "/item" cannot be a number`},
		{"premium status of a company", "GET", "/api/premium/status?experience_id=" + creator, member, nil, "invalid_experience_id", "exp_"},
		{"premium status with NUL", "GET", "/api/premium/status?experience_id=" + exp + "%00", member, nil, "invalid_experience_id", ""},
		{"premium checkout in a company", "POST", "/api/premium/checkout", member,
			jsonBody(t, map[string]string{"experience_id": creator}), "invalid_experience_id", ""},
		{"payment look-up with NUL", "GET", "/api/payments/" + receipt + "%00?company_id=" + creator, admin, nil, "invalid_payment_id", ""},
		{"payment look-up in an experience", "GET", "/api/payments/" + receipt + "?company_id=" + exp, admin, nil, "invalid_company_id", "biz_"},
	}
	before := a.snapshot()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n0, start := calls.n.Load(), time.Now()
			status, out, raw := a.send(tt.method, tt.path, tt.user, tt.body)
			took := time.Since(start)
			e, _ := out["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if status != 400 || e["code"] != tt.code || !strings.Contains(msg, tt.message) {
				t.Fatalf("%d %s; want 400 %s %q", status, raw, tt.code, tt.message)
			}
			// "At once" is nothing waited for (a lock, a timeout), not a
			// speed: 5 s leaves a loaded machine room.
			if n := calls.n.Load() - n0; n != 0 || took > 5*time.Second {
				t.Errorf("answered after %d calls to Whop and %v; want none and at once", n, took)
			}
		})
	}
	if changed := changedTables(before, a.snapshot()); len(changed) != 0 {
		t.Fatalf("refused requests changed the tables %v", changed)
	}
	if w := a.world(); len(w.Transfers) != 0 {
		t.Fatalf("refused payouts made %d transfers at Whop", len(w.Transfers))
	}
	// The same purchase and receipt, untouched, still work.
	status, out, raw := a.send("POST", confirmPath, member, confirm(receipt))
	if status != 200 || out["status"] != "paid" || out["balance"] != float64(100) {
		t.Fatalf("the real receipt: %d %s", status, raw)
	}
	a.releaseWebhooks()
}

// TestBadPathsAndFormsAre4xx: pages and forms take ids from the path and
// text from form fields; the same checks hold there, before Whop is asked.
func TestBadPathsAndFormsAre4xx(t *testing.T) {
	calls := &whopCalls{}
	a := setup(t, withWhopCalls(calls))
	member, admin, owner := a.member(0), a.env.Seed.Admin.ID, a.env.Seed.OwnerAdmin.ID
	exp, creator, ownerCo := a.experience(), a.env.Seed.Creator.ID, a.env.Seed.Owner.ID
	before := a.snapshot()
	for _, tt := range []struct {
		name, path, user string
		want             int
		text             string
	}{
		{"experience page with NUL", "/experiences/" + exp + "%00", member, 400, "experience_id must be a Whop experience id"},
		{"experience page of a company", "/experiences/" + creator, member, 400, "experience_id must be"},
		{"premium page with junk", "/experiences/" + exp + "%27--/premium", member, 400, "experience_id must be"},
		{"dashboard with a space", "/dashboard/" + creator + "%20", admin, 400, "company_id must be a Whop company id"},
		{"dashboard look-up with NUL", "/dashboard/" + creator + "?payment=pay_abc%00", admin, 400, "payment must be a Whop payment id"},
		{"refund page with a BOM", "/dashboard/" + ownerCo + "/payments/pay_abc%EF%BB%BF/refund", owner, 400, "payment_id must be"},
		{"return page with NUL", "/purchases/pur_abc%00/return", member, 400, "purchase_id must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n0, p0 := calls.n.Load(), calls.payments.Load()
			res, body := a.get(tt.path, tt.user)
			if res.StatusCode != tt.want || !strings.Contains(body, tt.text) {
				t.Fatalf("%d, page without %q:\n%.400s", res.StatusCode, tt.text, body)
			}
			// The dashboard shows the rest of itself (Whop's balance among
			// it) around the refused look-up; the look-up asks Whop nothing.
			n := calls.n.Load() - n0
			if p := calls.payments.Load() - p0; p != 0 || (n != 0 && !strings.Contains(tt.name, "look-up")) {
				t.Errorf("%d calls to Whop (%d for payments) before refusing", n, p)
			}
		})
	}
	for _, tt := range []struct {
		name, path, user string
		form             map[string]string
		want             int
		text             string
	}{
		{"payout form notes with NUL", "/dashboard/" + creator + "/payouts", admin,
			map[string]string{"recipient": "alice", "amount": "1.00", "notes": "hi\x00", "idempotency_key": "f-1"}, 400, "notes must be text of at most 50 characters"},
		{"payout form amount 1e2", "/dashboard/" + creator + "/payouts", admin,
			map[string]string{"recipient": "alice", "amount": "1e2", "idempotency_key": "f-2"}, 400, "exponent notation like 1e2 is not accepted"},
		{"payout form key not UTF-8", "/dashboard/" + creator + "/payouts", admin,
			map[string]string{"recipient": "alice", "amount": "1.00", "idempotency_key": "f-\xff"}, 400, "idempotency_key must be"},
		{"refund form key with NUL", "/dashboard/" + ownerCo + "/payments/pay_abc/refund", owner,
			map[string]string{"idempotency_key": "r-1\x00"}, 400, "idempotency_key must be"},
		{"refund form amount with NUL", "/dashboard/" + ownerCo + "/payments/pay_abc/refund", owner,
			map[string]string{"amount": "1e2\x00", "idempotency_key": "r-2"}, 400, "amount must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			values := map[string][]string{}
			for k, v := range tt.form {
				values[k] = []string{v}
			}
			status, _, body := a.form(tt.path, tt.user, values)
			if status != tt.want || !strings.Contains(body, tt.text) {
				t.Fatalf("%d, page without %q:\n%.600s", status, tt.text, body)
			}
		})
	}
	if changed := changedTables(before, a.snapshot()); len(changed) != 0 {
		t.Fatalf("refused pages and forms changed the tables %v", changed)
	}
	if w := a.world(); len(w.Transfers) != 0 {
		t.Fatalf("refused payouts made %d transfers", len(w.Transfers))
	}
}
