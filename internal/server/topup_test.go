package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestAutoTopUpRefusesBadInputWith4xx: the auto top-up page's JSON calls
// and forms answer what they cannot use with a clear 4xx and change
// nothing: junk ids, another member's setup, a rule without a card or out
// of range, a low-balance line that is no number.
func TestAutoTopUpRefusesBadInputWith4xx(t *testing.T) {
	a := setup(t)
	exp, alice, bob := a.experience(), a.member(0), a.member(1)

	for _, tt := range []struct {
		path, body, code string
		status           int
	}{
		{"/api/topup/setup", `{}`, "missing_field", 400},
		{"/api/topup/setup", `{"experience_id":"exp_\u0000"}`, "invalid_experience_id", 400},
		{"/api/topup/setup", `not json`, "", 400},
		{"/api/topup/method", `{"experience_id":"` + exp + `"}`, "missing_field", 400},
		{"/api/topup/method", `{"experience_id":"` + exp + `","setup_intent_id":"pay_123"}`, "invalid_setup_intent_id", 400},
		{"/api/topup/method", `{"experience_id":"` + exp + `","setup_intent_id":"sint_nope"}`, "setup_not_usable", 422},
	} {
		status, out, raw := a.send("POST", tt.path, alice, []byte(tt.body))
		code := ""
		if e, ok := out["error"].(map[string]any); ok {
			code, _ = e["code"].(string)
		}
		if status != tt.status || (tt.code != "" && code != tt.code) {
			t.Errorf("POST %s %s: %d %s, want %d %s", tt.path, tt.body, status, raw, tt.status, tt.code)
		}
	}

	// Bob's setup is not Alice's to record.
	status, out, raw := a.call("POST", "/api/topup/setup", bob, map[string]string{"experience_id": exp})
	if status != 200 || !strings.HasPrefix(out["id"].(string), "ch_") {
		t.Fatalf("setup: %d %s", status, raw)
	}
	res, err := a.sim.SaveCard(whopsim.Setup{CheckoutID: out["id"].(string), UserID: bob, Card: whopsim.CardSucceeds})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, raw := a.call("POST", "/api/topup/method", alice,
		map[string]string{"experience_id": exp, "setup_intent_id": res.ReceiptID}); status != 422 || !strings.Contains(raw, "setup_not_usable") {
		t.Errorf("alice records bob's setup: %d %s", status, raw)
	}

	self := "/experiences/" + exp + "/autotopup"
	for _, tt := range []struct {
		values url.Values
		status int
		msg    string
	}{
		{url.Values{"threshold": {"50"}, "package": {"starter"}, "daily_limit": {"3"}}, 409, "Save a card first"},
		{url.Values{"threshold": {"0"}, "package": {"starter"}, "daily_limit": {"3"}}, 400, "The threshold must be at least 1 credit"},
		{url.Values{"threshold": {"50"}, "package": {"starter"}, "daily_limit": {"51"}}, 400, "the daily limit between 1 and 50"},
		{url.Values{"threshold": {"x"}, "package": {"starter"}, "daily_limit": {"3"}}, 400, "The threshold must be"},
		{url.Values{"threshold": {"50"}, "package": {"nope"}, "daily_limit": {"3"}}, 400, ""},
		{url.Values{"threshold": {"50"}, "package": {"a b"}, "daily_limit": {"3"}}, 400, "Choose one of the packages."},
	} {
		status, _, body := a.form(self+"/rule", alice, tt.values)
		if status != tt.status || !strings.Contains(body, tt.msg) || !strings.Contains(body, `data-testid="autotopup-error"`) {
			t.Errorf("rule %v: %d, want %d with %q", tt.values, status, tt.status, tt.msg)
		}
	}
	status, _, body := a.form(self+"/alerts", alice, url.Values{"low_balance": {"on"}, "low_balance_below": {"ten"}})
	if status != 400 || !strings.Contains(body, "A low-balance alert needs a line of at least 1 credit.") {
		t.Errorf("alerts with a bad line: %d", status)
	}
	status, _, body = a.form(self+"/alerts", alice, url.Values{"low_balance": {"on"}})
	if status != 400 || !strings.Contains(body, "A low-balance alert needs a line") {
		t.Errorf("alerts without a line: %d", status)
	}
	// (Bob's card may be saved by now: his setup's webhook records it.)
	if n := a.count(`SELECT (SELECT count(*) FROM topup_rules) +
		(SELECT count(*) FROM topup_methods m JOIN wallets w ON w.id = m.wallet_id WHERE w.user_id = $1) +
		(SELECT count(*) FROM notification_prefs)`, alice); n != 0 {
		t.Fatalf("rows written by refused requests: %d", n)
	}
	// The member without access gets the app's 403, not the page.
	if status, _, _ := a.form(self+"/rule", a.env.Seed.NoAccess.ID, url.Values{"threshold": {"50"}}); status != http.StatusForbidden {
		t.Errorf("no access: %d", status)
	}
}

// TestAutoTopUpPageFormsRoundTrip: the page without script: the rule and
// the notification choices saved by their forms show on the page again;
// removing the rule says so. The page shows the member's balance.
func TestAutoTopUpPageFormsRoundTrip(t *testing.T) {
	a := setup(t)
	exp, alice := a.experience(), a.member(0)
	a.buyIn(exp, alice, "starter") // 100 credits
	self := "/experiences/" + exp + "/autotopup"
	status, out, raw := a.call("POST", "/api/topup/setup", alice, map[string]string{"experience_id": exp})
	if id, _ := out["id"].(string); status != 200 || !strings.HasPrefix(id, "ch_") || len(out) != 2 ||
		!strings.HasPrefix(out["purchase_url"].(string), "http") || !strings.Contains(out["purchase_url"].(string), id) {
		t.Fatalf("setup: %d %s", status, raw)
	}
	res, err := a.sim.SaveCard(whopsim.Setup{CheckoutID: out["id"].(string), UserID: alice, Card: whopsim.CardSucceeds})
	if err != nil {
		t.Fatal(err)
	}
	if status, out, raw := a.call("POST", "/api/topup/method", alice,
		map[string]string{"experience_id": exp, "setup_intent_id": res.ReceiptID}); status != 200 ||
		out["card_brand"] != "visa" || out["card_last4"] != "4242" || out["rule_enabled"] != false {
		t.Fatalf("method: %d %s", status, raw)
	}
	status, loc, _ := a.form(self+"/rule", alice, url.Values{"threshold": {"30"}, "package": {"pro"}, "daily_limit": {"2"}})
	if status != http.StatusSeeOther || loc != self+"?saved=rule" {
		t.Fatalf("rule: %d %s", status, loc)
	}
	status, loc, _ = a.form(self+"/alerts", alice, url.Values{"credited": {"on"}, "low_balance": {"on"}, "low_balance_below": {"15"}})
	if status != http.StatusSeeOther || loc != self+"?saved=alerts" {
		t.Fatalf("alerts: %d %s", status, loc)
	}
	_, page := a.get(self+"?saved=alerts", alice)
	for _, want := range []string{
		"Saved card: visa •••• 4242",
		"When a spend takes your balance below 30 credits, buy 600 credits for $24.99, at most 2 a UTC day (declined ones count).",
		`value="30"`, `value="2"`, `<option value="pro" selected>`, `value="15"`,
		"Notifications saved.", `name="credited" checked`, `name="low_balance" checked`,
		`data-testid="balance">100</span>`,
		// "Remove rule" is in the rule form's row but submits its own form.
		`form="rule-remove-form" data-testid="rule-remove"`, `<form id="rule-remove-form" method="post" action="` + self + `/remove"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, `name="topup_failed" checked`) {
		t.Error("an alert not chosen shows as chosen")
	}
	status, loc, _ = a.form(self+"/remove", alice, nil)
	if status != http.StatusSeeOther || loc != self+"?removed=0" {
		t.Fatalf("remove: %d %s", status, loc)
	}
	_, page = a.get(loc, alice)
	if !strings.Contains(page, "Rule removed.") || !strings.Contains(page, `data-testid="no-rule"`) {
		t.Error("the page after removal does not say so")
	}
	var low int64
	var credited, lowOn, failed bool
	if err := a.db.Pool.QueryRow(a.ctx, `SELECT credited, low_balance, low_balance_below, topup_failed FROM notification_prefs
		WHERE experience_id = $1 AND user_id = $2`, exp, alice).Scan(&credited, &lowOn, &low, &failed); err != nil ||
		!credited || !lowOn || low != 15 || failed {
		t.Fatalf("prefs = %t %t %d %t (%v)", credited, lowOn, low, failed, err)
	}
}
