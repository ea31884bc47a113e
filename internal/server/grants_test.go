package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"golang.org/x/net/html"
)

// grant posts to /api/grants as user.
func (a *app) grant(user string, body map[string]any) (int, map[string]any, string) {
	a.t.Helper()
	return a.call("POST", "/api/grants", user, body)
}

// grantBody is a grant of credits to alice in the creator's experience by
// the creator's admin.
func (a *app) grantBody(key string, credits any, expires string) map[string]any {
	return map[string]any{"company_id": a.env.Seed.Creator.ID, "experience_id": a.experience(), "member": "@alice",
		"credits": credits, "reason": "Thanks for the beta feedback", "expires_at": expires, "idempotency_key": key}
}

func TestGrantAPIGrantsOnceReplaysAndShowsInTheMembersHistory(t *testing.T) {
	a := setup(t)
	admin, alice, exp := a.env.Seed.Admin.ID, a.member(0), a.experience()
	day := time.Now().UTC().AddDate(0, 0, 10).Format("2006-01-02")
	expires, _ := time.Parse("2006-01-02", day)
	expires = expires.AddDate(0, 0, 1) // usable through that day, UTC
	body := a.grantBody("g-1", 50, day)
	code, out, raw := a.grant(admin, body)
	if code != 201 || out["replayed"] != false {
		t.Fatalf("grant: %d %s", code, raw)
	}
	gj := out["grant"].(map[string]any)
	id := gj["id"].(string)
	g, err := a.store.CreditGrant(a.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := a.store.Entries(a.ctx, exp, alice)
	if len(entries) != 1 || entries[0].Kind != ledger.KindGrant || entries[0].Amount != 50 || entries[0].Reference != id {
		t.Fatalf("entries = %+v", entries)
	}
	want := ledger.CreditGrant{ID: id, ExperienceID: exp, UserID: alice, Username: "alice", CompanyID: a.env.Seed.Creator.ID,
		Credits: 50, Reason: "Thanks for the beta feedback", ExpiresAt: g.ExpiresAt, GrantedBy: admin,
		GrantedByCompany: a.env.Seed.Creator.ID, IdempotencyKey: "g-1", LedgerEntryID: entries[0].ID, CreatedAt: g.CreatedAt}
	if g != want || !g.ExpiresAt.Equal(expires) || !strings.HasPrefix(id, "grt_") {
		t.Fatalf("grant row = %+v\nwant %+v (expiring %s)", g, want, expires)
	}
	wantJSON := map[string]any{"id": id, "experience_id": exp, "company_id": a.env.Seed.Creator.ID,
		"credits": 50.0, "spent": 0.0, "expired": 0.0, "left": 50.0, "reason": "Thanks for the beta feedback",
		"expires_at": expires.Format(time.RFC3339), "expired_at": nil, "granted_by": admin,
		"granted_by_company_id": a.env.Seed.Creator.ID, "idempotency_key": "g-1", "created_at": g.CreatedAt.UTC().Format(time.RFC3339)}
	for k, v := range wantJSON {
		if gj[k] != v {
			t.Errorf("grant JSON %s = %v, want %v", k, gj[k], v)
		}
	}
	if m := gj["member"].(map[string]any); m["id"] != alice || m["username"] != "alice" || len(gj) != len(wantJSON)+1 {
		t.Errorf("grant JSON = %v", gj)
	}
	if n := a.count(`SELECT count(*) FROM river_job WHERE kind = 'grant_expiry' AND args->>'grant_id' = $1
		AND scheduled_at = $2 AND state = 'scheduled'`, id, expires); n != 1 {
		t.Errorf("%d expiry jobs scheduled at %s, want 1", n, expires)
	}

	// The same request again answers with the first grant; another
	// request with the key is refused; nothing more is granted.
	code, out, _ = a.grant(admin, body)
	if code != 200 || out["replayed"] != true || out["grant"].(map[string]any)["id"] != id {
		t.Fatalf("replay: %d %v", code, out)
	}
	body["member"] = alice // the same member by id is the same request
	if code, out, _ = a.grant(admin, body); code != 200 || out["replayed"] != true {
		t.Fatalf("replay naming the member by id: %d %v", code, out)
	}
	body["credits"] = "60"
	if code, out, _ = a.grant(admin, body); code != 409 || out["error"].(map[string]any)["code"] != "idempotency_conflict" {
		t.Fatalf("same key, other credits: %d %v", code, out)
	}
	if a.balance(alice) != 50 || a.count(`SELECT count(*) FROM credit_grants`) != 1 {
		t.Fatalf("balance %d after replays", a.balance(alice))
	}

	// The member's history shows the grant apart from what they bought.
	a.buyIn(exp, alice, "starter")
	res, page := a.get("/experiences/"+exp+"/activity", alice)
	if res.StatusCode != 200 {
		t.Fatalf("activity = %d", res.StatusCode)
	}
	text := visibleText(t, page)
	for _, want := range []string{"Granted: Thanks for the beta feedback", "+50",
		"Expires " + expires.Format("Jan 2, 2006") + ", 00:00 UTC",
		"Includes 50 granted credits, spent before the ones you bought; 50 expire " + expires.Format("Jan 2, 2006") + ", 00:00 UTC.",
		"Bought the starter package", "+100", "Download all as CSV"} {
		if !strings.Contains(text, want) {
			t.Errorf("activity page lacks %q:\n%s", want, text)
		}
	}
	if top := topBalance.FindStringSubmatch(page); top == nil || top[1] != "150" {
		t.Errorf("balance on the activity page = %v, want 150", top)
	}
}

// TestGrantRetriedAfterItsExpiryIsReplayed: a client that lost the answer
// to a grant and retries it with the same key after the grant's expiry
// gets the first grant back, not a refusal that would have it try again
// with a new key and grant twice. A new key is held to the clock; another
// grant under the old key is still a conflict.
func TestGrantRetriedAfterItsExpiryIsReplayed(t *testing.T) {
	a := setup(t)
	admin, alice := a.env.Seed.Admin.ID, a.member(0)
	expires := time.Now().UTC().Add(90 * time.Second).Truncate(time.Second)
	body := a.grantBody("g-late", 50, expires.Format(time.RFC3339))
	code, out, raw := a.grant(admin, body)
	if code != 201 {
		t.Fatalf("grant: %d %s", code, raw)
	}
	id := out["grant"].(map[string]any)["id"].(string)

	a.ahead.Store(int64(2 * time.Minute)) // the expiry has passed
	code, out, raw = a.grant(admin, body)
	if code != 200 || out["replayed"] != true {
		t.Fatalf("retry after the expiry: %d %s, want 200 with the first grant", code, raw)
	}
	if g := out["grant"].(map[string]any); g["id"] != id || g["credits"] != 50.0 || g["expires_at"] != expires.Format(time.RFC3339) {
		t.Errorf("replayed grant = %v, want %s", g, id)
	}
	body["credits"] = 60
	if code, out, raw = a.grant(admin, body); code != 409 || out["error"].(map[string]any)["code"] != "idempotency_conflict" {
		t.Errorf("same key, other credits, after the expiry: %d %s, want 409 idempotency_conflict", code, raw)
	}
	body["credits"], body["idempotency_key"] = 50, "g-late-2"
	if code, out, raw = a.grant(admin, body); code != 400 || out["error"].(map[string]any)["code"] != "invalid_expires_at" {
		t.Errorf("a new key with the passed expiry: %d %s, want 400 invalid_expires_at", code, raw)
	}
	if n := a.count(`SELECT count(*) FROM credit_grants`); n != 1 || a.balance(alice) != 50 {
		t.Fatalf("%d grants and a balance of %d after the retries, want 1 and 50", n, a.balance(alice))
	}
}

// TestGrantExpiringTooSoonIsRefusedNot500: an expiry less than a minute
// away is refused up front; and should the database, on its own clock,
// still find the grant expired as it is recorded (here billing's clock
// runs two minutes behind), the answer is the same field error, not 500.
func TestGrantExpiringTooSoonIsRefusedNot500(t *testing.T) {
	a := setup(t)
	admin := a.env.Seed.Admin.ID
	const msg = "The expiry must be at least a minute from now."
	refused := func(name string, body map[string]any) {
		t.Helper()
		code, out, raw := a.grant(admin, body)
		if code != 400 || out["error"] == nil {
			t.Fatalf("%s: %d %s, want 400 invalid_expires_at", name, code, raw)
		}
		if e := out["error"].(map[string]any); e["code"] != "invalid_expires_at" || e["message"] != msg {
			t.Errorf("%s: error = %v, want invalid_expires_at: %s", name, e, msg)
		}
	}
	refused("30 s ahead", a.grantBody("soon-1", 50, time.Now().UTC().Add(30*time.Second).Format(time.RFC3339)))

	a.ahead.Store(int64(-2 * time.Minute))
	refused("passed on the database's clock", a.grantBody("soon-2", 50, time.Now().UTC().Add(-30*time.Second).Format(time.RFC3339)))

	if n := a.count(`SELECT count(*) FROM credit_grants`) + a.count(`SELECT count(*) FROM ledger_entries`) +
		a.count(`SELECT count(*) FROM river_job WHERE kind = 'grant_expiry'`); n != 0 || a.balance(a.member(0)) != 0 {
		t.Fatalf("%d grants, entries or expiry jobs and a balance of %d after the refusals", n, a.balance(a.member(0)))
	}
}

// TestGrantsBesideABalanceARefundTookBelowZero: a refund takes back bought
// credits only, so credits bought and spent, then a grant, then the
// purchase refunded leave a balance of −50 with 50 granted credits still
// held (and still to expire). The activity page does not say the balance
// "includes" them.
func TestGrantsBesideABalanceARefundTookBelowZero(t *testing.T) {
	a := setup(t)
	admin, alice, exp := a.env.Seed.Admin.ID, a.member(0), a.experience()
	_, pay := a.buyIn(exp, alice, "starter")
	for _, key := range []string{"review-1", "review-2"} { // 2 × 50: all 100 bought credits
		if code, _, raw := a.call("POST", "/api/spend", alice, map[string]string{
			"experience_id": exp, "item": "review", "idempotency_key": key}); code != 200 {
			t.Fatalf("spend %s: %d %s", key, code, raw)
		}
	}
	day := time.Now().UTC().AddDate(0, 0, 10).Format("2006-01-02")
	expires, _ := time.Parse("2006-01-02", day)
	if code, _, raw := a.grant(admin, a.grantBody("g-1", 50, day)); code != 201 {
		t.Fatalf("grant: %d %s", code, raw)
	}
	if err := a.sim.Refund(pay, 499); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(alice); b != -50 {
		t.Fatalf("balance = %d, want -50", b)
	}
	_, page := a.get("/experiences/"+exp+"/activity", alice)
	want := "Counts 50 granted credits: a refund or chargeback took back more credits than you had left, so without them it would be −100; 50 expire " +
		expires.AddDate(0, 0, 1).Format("Jan 2, 2006") + ", 00:00 UTC."
	text := visibleText(t, page)
	if !strings.Contains(text, want) || strings.Contains(text, "Includes") {
		t.Errorf("activity page lacks %q (or says the balance includes the grant):\n%s", want, text)
	}
	if top := topBalance.FindStringSubmatch(page); top == nil || top[1] != "−50" {
		t.Errorf("balance on the activity page = %v, want −50", top)
	}
}

// TestGrantAccessAndRefusals: who may grant where, and what is refused
// before anything is granted.
func TestGrantAccessAndRefusals(t *testing.T) {
	a := setup(t)
	seed := a.env.Seed
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	cases := []struct {
		name   string
		user   string
		change func(map[string]any)
		code   int
		err    string
	}{
		{"a member", seed.Members[1].ID, nil, 403, "forbidden"},
		{"the creator's admin for the owner's company", seed.Admin.ID, func(b map[string]any) { b["company_id"] = seed.Owner.ID }, 403, "forbidden"},
		{"the creator's admin in the owner's experience", seed.Admin.ID, func(b map[string]any) { b["experience_id"] = seed.Owner.ExperienceID }, 403, "not_your_experience"},
		{"a user without access", seed.Admin.ID, func(b map[string]any) { b["member"] = seed.NoAccess.Username }, 422, "not_a_member"},
		{"an unknown user", seed.Admin.ID, func(b map[string]any) { b["member"] = "nobody_here" }, 422, "unknown_member"},
		{"an unknown experience", seed.Admin.ID, func(b map[string]any) { b["experience_id"] = "exp_unknown1" }, 404, "unknown_experience"},
		{"zero credits", seed.Admin.ID, func(b map[string]any) { b["credits"] = 0 }, 400, "invalid_credits"},
		{"fractional credits", seed.Admin.ID, func(b map[string]any) { b["credits"] = 2.5 }, 400, "invalid_credits"},
		{"too many credits", seed.Admin.ID, func(b map[string]any) { b["credits"] = 10_000_001 }, 400, "invalid_credits"},
		{"no reason", seed.Admin.ID, func(b map[string]any) { b["reason"] = "  " }, 400, "invalid_reason"},
		{"a reason with a control character", seed.Admin.ID, func(b map[string]any) { b["reason"] = "thanks\x00" }, 400, "invalid_reason"},
		{"an expiry in the past", seed.Admin.ID, func(b map[string]any) { b["expires_at"] = "2020-01-01" }, 400, "invalid_expires_at"},
		{"an expiry that is no date", seed.Admin.ID, func(b map[string]any) { b["expires_at"] = "next week" }, 400, "invalid_expires_at"},
		{"an expiry too far", seed.Admin.ID, func(b map[string]any) { b["expires_at"] = "2099-01-01" }, 400, "invalid_expires_at"},
		{"no key", seed.Admin.ID, func(b map[string]any) { b["idempotency_key"] = "" }, 400, "invalid_idempotency_key"},
		{"no experience", seed.Admin.ID, func(b map[string]any) { b["experience_id"] = "" }, 400, "missing_field"},
		{"an experience id with junk", seed.Admin.ID, func(b map[string]any) { b["experience_id"] = seed.Creator.ExperienceID + " x" }, 400, "invalid_experience_id"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := a.grantBody("k"+string(rune('a'+i)), 25, tomorrow)
			if c.change != nil {
				c.change(body)
			}
			code, out, raw := a.grant(c.user, body)
			if code != c.code || out["error"] == nil || out["error"].(map[string]any)["code"] != c.err {
				t.Fatalf("%d %s, want %d %s", code, raw, c.code, c.err)
			}
		})
	}
	if n := a.count(`SELECT count(*) FROM credit_grants`); n != 0 || a.balance(a.member(0)) != 0 {
		t.Fatalf("%d grants after refusals", n)
	}
	// The owner's admin may grant anywhere, in the creator's experience
	// too; the grant belongs to the experience's company.
	body := a.grantBody("owner-1", "30", "")
	body["company_id"] = seed.Owner.ID
	code, out, raw := a.grant(seed.OwnerAdmin.ID, body)
	if code != 201 {
		t.Fatalf("owner's grant: %d %s", code, raw)
	}
	g := out["grant"].(map[string]any)
	if g["company_id"] != seed.Creator.ID || g["granted_by_company_id"] != seed.Owner.ID || g["expires_at"] != nil {
		t.Errorf("owner's grant = %v", g)
	}
	// A member granted in the owner's experience by the owner's admin.
	body = a.grantBody("owner-2", 5, "")
	body["company_id"], body["experience_id"], body["member"] = seed.Owner.ID, seed.Owner.ExperienceID, seed.Members[1].ID
	if code, _, raw := a.grant(seed.OwnerAdmin.ID, body); code != 201 {
		t.Fatalf("owner's grant in its own experience: %d %s", code, raw)
	}
	if a.balance(a.member(0)) != 30 || a.count(`SELECT count(*) FROM river_job WHERE kind = 'grant_expiry'`) != 0 {
		t.Errorf("after the owner's grants: balance %d", a.balance(a.member(0)))
	}
}

// TestGrantFormWithoutScript: the dashboard's form grants and lands on the
// list with a notice; a refused one shows the form again with what was
// typed and the reason; sending the same form twice grants once.
func TestGrantFormWithoutScript(t *testing.T) {
	a := setup(t)
	creator, admin, exp := a.env.Seed.Creator.ID, a.env.Seed.Admin.ID, a.experience()
	a.buyIn(exp, a.member(1), "starter") // the form then suggests the experience
	_, page := a.get("/dashboard/"+creator, admin)
	if !strings.Contains(page, `<option value="`+exp+`">`) || !strings.Contains(page, `id="grant-experience" name="experience_id" value="`+exp+`"`) {
		t.Fatal("the grant form does not suggest the company's experience")
	}
	form := url.Values{"member": {"bob"}, "experience_id": {exp}, "credits": {"40"}, "reason": {"Welcome to the guild"},
		"expires_at": {""}, "idempotency_key": {"form-1"}}
	code, loc, _ := a.form("/dashboard/"+creator+"/grants", admin, form)
	if code != 303 || !strings.HasPrefix(loc, "/dashboard/"+creator+"?grant=grt_") || !strings.HasSuffix(loc, "#grants") {
		t.Fatalf("grant form: %d → %s", code, loc)
	}
	if code, again, _ := a.form("/dashboard/"+creator+"/grants", admin, form); code != 303 || again != loc {
		t.Fatalf("the form sent twice: %d → %s, want %s", code, again, loc)
	}
	if a.balance(a.member(1)) != 140 || a.count(`SELECT count(*) FROM credit_grants`) != 1 {
		t.Fatalf("balance %d after the form twice, want 140", a.balance(a.member(1)))
	}
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/dashboard/"+creator+"?grant="), "#grants")
	_, page = a.get(strings.TrimSuffix(loc, "#grants"), admin)
	text := visibleText(t, page)
	for _, want := range []string{"Granted 40 credits to @bob in " + exp + ". They show in the member's activity now.",
		"@bob", "Welcome to the guild", "40 left", "never"} {
		if !strings.Contains(text, want) {
			t.Errorf("dashboard after the grant lacks %q", want)
		}
	}
	if !strings.Contains(page, `data-testid="grant-`+id+`"`) || !strings.Contains(page, `data-testid="grants-granted"`) {
		t.Error("the grant is not listed")
	}

	form.Set("credits", "0")
	form.Set("idempotency_key", "form-2")
	code, _, body := a.form("/dashboard/"+creator+"/grants", admin, form)
	if code != 400 || !strings.Contains(body, `data-testid="grant-error"`) || !strings.Contains(body, "Enter a whole number of credits from 1 to 10000000.") ||
		!strings.Contains(body, `value="Welcome to the guild"`) || !strings.Contains(body, `name="member" value="bob"`) {
		t.Fatalf("refused form: %d", code)
	}
	if a.count(`SELECT count(*) FROM credit_grants`) != 1 {
		t.Fatal("a refused form granted")
	}
	if code, _, _ := a.form("/dashboard/"+creator+"/grants", a.member(0), form); code != 403 {
		t.Errorf("a member posting the form: %d, want 403", code)
	}
}

// TestGrantExpiresByItsJob: the grant's job, at its time, takes out what
// the member did not spend, once; the member's history and the dashboard
// say so.
func TestGrantExpiresByItsJob(t *testing.T) {
	a := setup(t)
	alice, exp, creator := a.member(0), a.experience(), a.env.Seed.Creator.ID
	a.buyIn(exp, alice, "starter")
	// A whole second, as RFC 3339 carries it, 4-5 s ahead: the grant and the
	// spend come before it even on a loaded machine.
	expires := time.Now().Add(4 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	code, out, raw := a.grantEarly(a.env.Seed.Admin.ID, a.grantBody("g-1", 30, expires.Format(time.RFC3339)))
	if code != 201 {
		t.Fatalf("grant: %d %s", code, raw)
	}
	id := out["grant"].(map[string]any)["id"].(string)
	// A spend of 20 uses the grant's credits first.
	if code, _, raw := a.call("POST", "/api/spend", alice, map[string]string{"experience_id": exp, "item": "boost", "idempotency_key": "s1"}); code != 200 {
		t.Fatalf("spend: %d %s", code, raw)
	}
	if g, _ := a.store.CreditGrant(a.ctx, id); g.Spent != 20 || g.Left() != 10 {
		t.Fatalf("grant after the spend = %+v", g)
	}
	time.Sleep(time.Until(expires) + 50*time.Millisecond)
	a.advanceJobs()
	a.drain()
	g, _ := a.store.CreditGrant(a.ctx, id)
	if g.Expired != 10 || g.ExpiredAt.IsZero() || g.Spent+g.Expired != g.Credits || a.balance(alice) != 100 {
		t.Fatalf("after the job: %+v, balance %d; want 10 expired, balance 100", g, a.balance(alice))
	}
	// Running the job again takes nothing.
	if n := a.count(`SELECT count(*) FROM river_job WHERE kind = 'grant_expiry' AND state = 'completed'`); n != 1 {
		t.Errorf("%d completed expiry jobs", n)
	}
	_, page := a.get("/experiences/"+exp+"/activity", alice)
	text := visibleText(t, page)
	for _, want := range []string{"Expired: Thanks for the beta feedback", "−10", "Granted: Thanks for the beta feedback",
		"Expired " + expires.Format("Jan 2, 2006, 15:04") + " UTC"} {
		if !strings.Contains(text, want) {
			t.Errorf("activity lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(page, `data-testid="granted"`) {
		t.Error("the activity still says grants hold credits")
	}
	_, dash := a.get("/dashboard/"+creator, a.env.Seed.Admin.ID)
	if !strings.Contains(dash, `data-testid="grant-status-`+id+`">Expired<`) {
		t.Error("the dashboard does not show the grant expired")
	}
	_, dj, _ := a.call("GET", "/api/dashboard/"+creator, a.env.Seed.Admin.ID, nil)
	gf := dj["grants"].(map[string]any)
	if gf["grants"] != 1.0 || gf["granted"] != 30.0 || gf["spent"] != 20.0 || gf["expiries"] != 1.0 || gf["expired"] != 10.0 || gf["outstanding"] != 0.0 {
		t.Errorf("dashboard grants = %v", gf)
	}
}

// TestGrantPastItsExpirySpendsNothingAndShowsNothing: between a grant's
// expiry and its job, the grant's credits are still in the balance but buy
// nothing. A refused spend says what the member can spend, not the balance
// that counts them, and so does their page; a grant that never expires
// still counts. Once the job has run, both say the same.
func TestGrantPastItsExpirySpendsNothingAndShowsNothing(t *testing.T) {
	a := setup(t, withItems(billing.Item{ID: "mural", Title: "Mural", Description: "A wall of your own.", Cost: 150}))
	admin, alice, exp := a.env.Seed.Admin.ID, a.member(0), a.experience()
	a.buyIn(exp, alice, "starter") // 100
	if code, _, raw := a.grant(admin, a.grantBody("g-never", 7, "")); code != 201 {
		t.Fatalf("grant: %d %s", code, raw)
	}
	expires := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	if code, _, raw := a.grantEarly(admin, a.grantBody("g-soon", 90, expires.Format(time.RFC3339))); code != 201 {
		t.Fatalf("grant: %d %s", code, raw)
	}
	time.Sleep(time.Until(expires) + 50*time.Millisecond) // its job not run: the balance still counts it
	if b := a.balance(alice); b != 197 {
		t.Fatalf("balance = %d before the expiry job, want 197", b)
	}
	shows := func(when string) { // 100 bought and 7 granted for good
		t.Helper()
		code, out, raw := a.call("POST", "/api/spend", alice, map[string]string{"experience_id": exp, "item": "mural",
			"idempotency_key": "mural-" + when})
		if e, _ := out["error"].(map[string]any); code != 409 || e["code"] != "insufficient_credits" || e["balance"] != 107.0 ||
			e["message"] != "Not enough credits: your balance is 107 and this costs 150." {
			t.Errorf("%s: spend of 150 = %d %s, want 409 saying the balance is 107", when, code, raw)
		}
		if _, page := a.get("/experiences/"+exp, alice); topBalance.FindStringSubmatch(page) == nil ||
			topBalance.FindStringSubmatch(page)[1] != "107" {
			t.Errorf("%s: balance on the member's page = %v, want 107", when, topBalance.FindStringSubmatch(page))
		}
	}
	shows("before the job")
	a.advanceJobs()
	a.drain()
	if b := a.balance(alice); b != 107 {
		t.Fatalf("balance = %d after the expiry job, want 107", b)
	}
	shows("after the job")
}

// visibleText is a page's text, its nodes joined by single spaces.
func visibleText(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return textOf(doc)
}
