package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

func TestPremiumIsGatedWithoutAccess(t *testing.T) {
	a := setup(t)
	exp := a.experience()
	res, body := a.get("/experiences/"+exp, a.member(0))
	if res.StatusCode != 200 {
		t.Fatalf("experience page: %d", res.StatusCode)
	}
	assertContains(t, "the page of a member without premium", body,
		`data-testid="premium-upgrade"`, `data-testid="upgrade"`, "50 credits every billing period", "/static/js/premium.js")
	assertLacks(t, "the page of a member without premium", body, `data-testid="premium-content"`, `data-testid="premium-open"`, "/premium\"")

	tests := []struct {
		name, user string
		status     int
		text       string
	}{
		{"member without premium", a.member(0), 403, "Premium members only"},
		{"no access to the experience", a.env.Seed.NoAccess.ID, 403, "You need access to Credits"},
		{"no token", "", 401, "Open this app from Whop"},
		{"premium member", a.member(2), 200, `data-testid="premium-lounge"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := a.get("/experiences/"+exp+"/premium", tt.user)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.text) {
				t.Fatalf("premium page: %d, want %d with %q", res.StatusCode, tt.status, tt.text)
			}
			assertHTMLFraming(t, res, a.env.URL)
		})
	}
	code, out, _ := a.call("GET", "/api/premium/status?experience_id="+exp, a.member(0), nil)
	if code != 200 || out["premium"] != false {
		t.Fatalf("status of a member without premium: %d %v", code, out)
	}
	code, out, _ = a.call("GET", "/api/premium/status?experience_id="+exp, a.env.Seed.NoAccess.ID, nil)
	if code != 403 || out["error"].(map[string]any)["code"] != "forbidden" {
		t.Fatalf("status without access to the experience: %d %v", code, out)
	}
	// The seeded premium member sees the premium section, with no period
	// details: the app never saw that membership's webhook, so it never
	// added its credits, and the page does not promise them.
	const noCredits = "No premium credits are recorded for your membership yet. An upgrade bought in this app " +
		"adds them once Whop confirms it; a membership bought elsewhere adds none."
	_, body = a.get("/experiences/"+exp, a.member(2))
	assertContains(t, "the premium member's page", body, `data-testid="premium-content"`,
		`href="/experiences/`+exp+`/premium"`, `data-testid="premium-no-credits">`+noCredits+`<`)
	assertLacks(t, "the premium member's page", body, `data-testid="upgrade"`, `data-testid="premium-granted"`,
		`data-testid="premium-perk"`, "every billing period")
	_, body = a.get("/experiences/"+exp+"/premium", a.member(2))
	assertContains(t, "the premium member's lounge", body, `data-testid="premium-no-credits">`+noCredits+`<`)
	assertLacks(t, "the premium member's lounge", body, `data-testid="premium-perk"`, `data-testid="premium-granted"`)
}

func TestUpgradeThroughTheSandboxUnlocksPremium(t *testing.T) {
	a := setup(t)
	user, exp := a.member(0), a.experience()
	if a.isPremium(a.url, user) { // and the "no" is now cached
		t.Fatal("premium before paying")
	}
	start := time.Now().Add(-time.Minute)
	mem := a.upgrade(user)
	a.settle()

	// Whop holds the membership with our checkout's metadata…
	wm, err := a.whop.GetMembership(a.ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	if wm.Metadata["experience_id"] != exp || wm.Metadata["user_id"] != user ||
		wm.Metadata["experience_company_id"] != a.env.Seed.Creator.ID || wm.PlanID != a.env.Seed.PremiumPlanID {
		t.Fatalf("membership at Whop = %+v", wm)
	}
	// …and the app recorded it, field by field.
	got := a.membershipRow(mem)
	want := ledger.Membership{ID: mem, UserID: user, ProductID: a.env.Seed.PremiumProductID, PlanID: a.env.Seed.PremiumPlanID,
		ExperienceID: exp, ExperienceCompanyID: a.env.Seed.Creator.ID, Status: "active", Valid: true,
		PeriodStart: wm.RenewalPeriodStart, PeriodEnd: wm.RenewalPeriodEnd, WhopCreatedAt: wm.CreatedAt,
		LastEventAt: wm.UpdatedAt, CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt}
	if !sameMembership(got, want) || got.CreatedAt.Before(start) || got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("membership row = %+v\nwant %+v", got, want)
	}
	if d := wm.RenewalPeriodEnd.Sub(wm.RenewalPeriodStart); d != 30*24*time.Hour {
		t.Fatalf("period = %v, want the plan's 30 days", d)
	}

	// Premium now, without waiting for the cached "no" to expire.
	if !a.isPremium(a.url, user) {
		t.Fatal("not premium after membership.activated")
	}
	// The day the page names is the grant's own, read back, so the test
	// holds across midnight UTC.
	pg, err := a.store.PremiumGrants(a.ctx, mem)
	if err != nil || len(pg) != 1 {
		t.Fatalf("premium grants of %s: %+v, %v", mem, pg, err)
	}
	grantedOn := "This period&#39;s 50 credits were added on " + pg[0].CreatedAt.UTC().Format("Jan 2, 2006")
	_, body := a.get("/experiences/"+exp, user)
	assertContains(t, "the new member's page", body, `data-testid="premium-content"`, grantedOn,
		"Renews "+wm.RenewalPeriodEnd.UTC().Format("Jan 2, 2006"), `data-testid="balance">50<`)
	assertLacks(t, "the new member's page", body, `data-testid="upgrade"`)
	res, body := a.get("/experiences/"+exp+"/premium", user)
	if res.StatusCode != 200 {
		t.Fatalf("premium page: %d", res.StatusCode)
	}
	assertContains(t, "the premium page", body, `data-testid="premium-guides"`, "<code>"+mem+"</code>",
		`data-testid="membership-status-`+mem+`">Active<`, `data-testid="premium-perk">50 credits every billing period<`, grantedOn)
	// The credits went to the wallet of the experience the upgrade was
	// bought in. In the owner's experience, which the member reaches too,
	// the perk says where they go, and nothing was added there.
	other := a.env.Seed.Owner.ExperienceID
	_, body = a.get("/experiences/"+other, user)
	assertContains(t, "the member's page in another experience", body, `data-testid="premium-content"`,
		`data-testid="premium-perk">50 credits every billing period, added in the experience you upgraded in<`,
		`data-testid="balance">0<`)
	assertLacks(t, "the member's page in another experience", body, `data-testid="premium-granted"`, `data-testid="premium-no-credits"`)

	// The period's credits, once: the payment re-read the membership and
	// granted, the activation that followed found it done.
	grants, _ := a.store.PremiumGrants(a.ctx, mem)
	entries := a.grantEntries(user)
	if len(grants) != 1 || len(entries) != 1 {
		t.Fatalf("grants %+v, entries %+v; want one each", grants, entries)
	}
	g, e := grants[0], entries[0]
	firstPayment := lastEvent(t, a, "payment.succeeded").ID
	if g.MembershipID != mem || !g.PeriodStart.Equal(wm.RenewalPeriodStart.Truncate(time.Second)) || !g.PeriodEnd.Equal(wm.RenewalPeriodEnd) ||
		g.UserID != user || g.ExperienceID != exp || g.Credits != 50 || g.LedgerEntryID != e.ID || g.DeliveryID != firstPayment ||
		g.CreatedAt.Before(start) {
		t.Fatalf("grant = %+v (entry %d, payment delivery %s)", g, e.ID, firstPayment)
	}
	if e.Amount != 50 || e.BalanceAfter != 50 || e.Reference != mem {
		t.Fatalf("grant entry = %+v", e)
	}
	if o := a.outcomes("payment.succeeded"); len(o) != 1 || o[0] != "membership "+mem+" active; granted 50 credits" {
		t.Fatalf("payment.succeeded outcome = %q", o)
	}
	if o := a.outcomes("membership.activated"); len(o) != 1 || o[0] != "membership "+mem+" active (already recorded)" {
		t.Fatalf("membership.activated outcome = %q", o)
	}

	// Duplicates change nothing; a second upgrade is refused.
	if err := a.sim.Redeliver(lastEvent(t, a, "membership.activated").ID, 3); err != nil {
		t.Fatal(err)
	}
	if err := a.sim.Redeliver(firstPayment, 2); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if b := a.balance(user); b != 50 || len(a.grantEntries(user)) != 1 {
		t.Fatalf("after duplicates: balance %d, grants %d", b, len(a.grantEntries(user)))
	}
	code, out, _ := a.call("POST", "/api/premium/checkout", user, map[string]string{"experience_id": exp})
	if code != 409 || out["error"].(map[string]any)["code"] != "already_premium" {
		t.Fatalf("second upgrade: %d %v", code, out)
	}
	// The premium plan's payment was never a credit purchase.
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'purchase'`) + a.count(`SELECT count(*) FROM payment_rejections`); n != 0 {
		t.Fatalf("%d purchase entries or rejections from a premium payment", n)
	}
}

func TestUpgradeCheckoutRefusesBadRequests(t *testing.T) {
	a := setup(t)
	exp := a.experience()
	tests := []struct {
		name   string
		user   string
		body   any
		status int
		code   string
	}{
		{"no token", "", map[string]string{"experience_id": exp}, 401, "unauthenticated"},
		{"no experience", a.member(0), map[string]string{}, 400, "missing_field"},
		{"no access", a.env.Seed.NoAccess.ID, map[string]string{"experience_id": exp}, 403, "forbidden"},
		{"unknown field", a.member(0), map[string]any{"experience_id": exp, "plan_id": "plan_cheap"}, 400, "invalid_json"},
		{"already premium", a.member(2), map[string]string{"experience_id": exp}, 409, "already_premium"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, raw := a.call("POST", "/api/premium/checkout", tt.user, tt.body)
			if code != tt.status || out["error"].(map[string]any)["code"] != tt.code {
				t.Fatalf("got %d %s, want %d %s", code, raw, tt.status, tt.code)
			}
		})
	}
	// A good one answers with what inAppPurchase takes.
	code, out, raw := a.call("POST", "/api/premium/checkout", a.member(0), map[string]string{"experience_id": exp})
	if code != 200 || !strings.HasPrefix(out["id"].(string), "ch_") || out["planId"] != a.env.Seed.PremiumPlanID ||
		!strings.HasPrefix(out["purchase_url"].(string), a.env.URL+"/checkout/") || len(out) != 3 {
		t.Fatalf("checkout = %d %s", code, raw)
	}
	if n := a.count(`SELECT count(*) FROM memberships`) + a.count(`SELECT count(*) FROM webhook_deliveries`); n != 0 {
		t.Fatalf("%d rows written before anything was paid", n)
	}
}

func TestPremiumHiddenWhenNotConfigured(t *testing.T) {
	a := setup(t)
	base, _ := a.replica(withoutPremium())
	res, body := a.getAt(base, "/experiences/"+a.experience(), a.member(2))
	if res.StatusCode != 200 {
		t.Fatalf("experience page: %d", res.StatusCode)
	}
	assertLacks(t, "the page without premium configured", body, "premium", "Premium")
	if code := a.lounge(base, a.member(2)); code != 404 {
		t.Fatalf("premium page = %d, want 404", code)
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/premium/checkout"}, {"GET", "/api/premium/status?experience_id=" + a.experience()},
	} {
		code, out, _ := a.callAt(base, c.method, c.path, a.member(0), map[string]string{"experience_id": a.experience()})
		if c.method == "GET" {
			code, out, _ = a.callAt(base, c.method, c.path, a.member(0), nil)
		}
		if code != 404 || out["error"].(map[string]any)["code"] != "not_found" {
			t.Errorf("%s %s = %d %v, want 404", c.method, c.path, code, out)
		}
	}
	res, body = a.getAt(base, "/dashboard/"+a.env.Seed.Creator.ID, a.env.Seed.Admin.ID)
	if res.StatusCode != 200 || strings.Contains(body, "premium-members") {
		t.Fatalf("dashboard without premium: %d, shows the premium card: %t", res.StatusCode, strings.Contains(body, "premium-members"))
	}
	mem := a.simMembership(a.upgrade(a.member(0)))
	a.settle()
	code, raw := a.deliver(base, "msg_unconfigured", "membership.activated", mem)
	if code != 200 || !strings.Contains(raw, "ignored: premium is not configured") {
		t.Fatalf("a membership event without premium configured: %d %s", code, raw)
	}
}

func TestDashboardListsPremiumMembersPerExperience(t *testing.T) {
	a := setup(t)
	alice := a.upgrade(a.member(0))
	bob := a.upgrade(a.member(1))
	a.settle()
	res, body := a.get("/dashboard/"+a.env.Seed.Creator.ID, a.env.Seed.Admin.ID)
	if res.StatusCode != 200 {
		t.Fatalf("dashboard: %d", res.StatusCode)
	}
	wm, _ := a.whop.GetMembership(a.ctx, alice)
	assertContains(t, "the creator's dashboard", body, "Members who upgraded in your experiences.",
		`data-testid="premium-experience-`+a.experience()+`"`, "2 members",
		`data-testid="premium-member-`+alice+`"`, `data-testid="premium-member-`+bob+`"`,
		"<code>"+a.member(0)+"</code>", "<code>"+a.member(1)+"</code>",
		"Renews "+wm.RenewalPeriodEnd.UTC().Format("Jan 2, 2006"), `data-testid="membership-status-`+bob+`">Active<`)
	assertLacks(t, "the creator's dashboard", body, a.member(2)) // premium, but not bought in this company's experience

	if err := a.sim.DeactivateMembership(bob); err != nil {
		t.Fatal(err)
	}
	a.settle()
	_, body = a.get("/dashboard/"+a.env.Seed.Creator.ID, a.env.Seed.Admin.ID)
	assertContains(t, "the dashboard after bob lapsed", body, "1 member<", `data-testid="premium-member-`+alice+`"`)
	assertLacks(t, "the dashboard after bob lapsed", body, `data-testid="premium-member-`+bob+`"`)

	// The app owner sells premium: its dashboard lists every premium
	// member of the app, by experience, with a membership bought outside
	// the app's checkout (carol's, once a webhook records it) last.
	list := a.simGet("/memberships?user_ids[]=" + a.member(2) + "&product_ids[]=" + a.env.Seed.PremiumProductID)
	data, _ := list["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("carol's premium memberships at the sandbox = %v", list)
	}
	carol := data[0].(map[string]any)
	if code, raw := a.deliver(a.url, "msg_carol_active", "membership.activated", carol); code != 200 {
		t.Fatalf("carol's membership: %d %s", code, raw)
	}
	_, body = a.get("/dashboard/"+a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID)
	assertContains(t, "the owner's dashboard", body, "Every premium member of the app, by the experience they upgraded in.",
		`data-testid="premium-experience-`+a.experience()+`"`, `data-testid="premium-member-`+alice+`"`,
		`data-testid="premium-experience-none"`, "Bought outside the app", `data-testid="premium-member-`+carol["id"].(string)+`"`,
		"<code>"+a.member(2)+"</code>")
	assertLacks(t, "the owner's dashboard", body, `data-testid="no-premium-members"`, `data-testid="premium-member-`+bob+`"`)
	if strings.Index(body, `premium-member-`+alice) > strings.Index(body, `premium-member-`+carol["id"].(string)) {
		t.Fatal("the membership bought outside the app is not listed last")
	}
	_, body = a.get("/dashboard/"+a.env.Seed.Creator.ID, a.env.Seed.Admin.ID)
	assertLacks(t, "the creator's dashboard", body, a.member(2))
	if res, _ := a.get("/dashboard/"+a.env.Seed.Creator.ID, a.member(0)); res.StatusCode != 403 {
		t.Fatalf("a member on the dashboard: %d", res.StatusCode)
	}
}

func sameMembership(a, b ledger.Membership) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.ProductID == b.ProductID && a.PlanID == b.PlanID &&
		a.ExperienceID == b.ExperienceID && a.ExperienceCompanyID == b.ExperienceCompanyID && a.Status == b.Status &&
		a.Valid == b.Valid && a.PeriodStart.Equal(b.PeriodStart) && a.PeriodEnd.Equal(b.PeriodEnd) &&
		a.WhopCreatedAt.Equal(b.WhopCreatedAt) && a.LastEventAt.Equal(b.LastEventAt) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}
