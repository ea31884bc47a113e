package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/utcday"
)

// TestDashboardRevenueMatchesThePurchases buys, refunds and disputes
// through the sandbox and reads the creator's dashboard as its admin.
func TestDashboardRevenueMatchesThePurchases(t *testing.T) {
	utcday.ClearOfMidnight(t, 30*time.Second) // today's row holds every sale
	a := setup(t)
	exp, creator := a.experience(), a.env.Seed.Creator.ID
	starter1, pay1 := a.buyIn(exp, a.member(0), "starter")
	starter2, _ := a.buyIn(exp, a.member(1), "starter")
	pro, payPro := a.buyIn(exp, a.member(1), "pro")
	_, _, unpaid := a.charge(a.member(0), "starter") // never paid: a receipt, not revenue
	ownPurchase, _ := a.buyIn(a.env.Seed.Owner.ExperienceID, a.member(2), "starter")
	if err := a.sim.Refund(pay1, 200); err != nil { // $2.00 of a $4.99 sale
		t.Fatal(err)
	}
	if _, err := a.sim.Dispute(payPro, "fraudulent"); err != nil {
		t.Fatal(err)
	}
	a.settle()

	res, body := a.get("/dashboard/"+creator, a.env.Seed.Admin.ID)
	if res.StatusCode != 200 {
		t.Fatalf("dashboard: %d %s", res.StatusCode, body)
	}
	assertHTMLFraming(t, res, a.env.URL)
	p := parsePage(t, body)
	today := time.Now().UTC().Format("2006-01-02")
	for id, want := range map[string]string{
		"dashboard-role": "Creator dashboard", "company-title": "Pixel Guild", "company-id": creator,
		"stat-gross":     "Taken $34.97 3 sales in 30 days",
		"stat-refunded":  "Refunded $2.00 41 credits taken back", // ceil(100 × 200 / 499)
		"stat-net":       "Net $32.97 after refunds",
		"stat-credits":   "Credits sold 800 in your experiences",
		"stat-disputes":  "Disputes 1 $24.99 disputed",
		"payout-balance": "$250.00", "payout-fee": "$0.25",
		"payment-api": "", // no look-up asked for
	} {
		if want == "" {
			if p.has(id) {
				t.Errorf("%s shown without a look-up", id)
			}
			continue
		}
		if got := p.text(id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	rows := map[string][]string{
		"day-" + today:    {"", "3", "800", "$34.97", "$2.00"},
		"package-pro":     {"pro", "1", "600", "$24.99", "$0.00", "1 · $24.99", "$24.99"},
		"package-starter": {"starter", "2", "200", "$9.98", "$2.00", "—", "$7.98"},
		// Members by the @username Whop's payment gives; a purchase never
		// paid has no payment to say it, and shows the user id, and nothing
		// under Paid: no money came.
		"receipt-" + pro:      {"", "@bob", "pro 600 credits", "$24.99", payPro, "Paid"},
		"receipt-" + unpaid:   {"", a.member(0), "starter 100 credits", "—", "", "Not paid"},
		"receipt-" + starter1: {"", "@alice", "starter 100 credits", "$4.99 $2.00 refunded", pay1, "Partly refunded"},
	}
	rows["day-"+today][0] = time.Now().UTC().Format("Jan 2")
	for id, want := range rows {
		got := p.cells(id)
		if want[0] == "" && len(got) > 0 { // receipts: the time is not asserted exactly
			want[0] = got[0]
			if !strings.HasSuffix(got[0], "UTC") {
				t.Errorf("%s time = %q", id, got[0])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("row %s = %q, want %q", id, got, want)
		}
	}
	if p.has("receipt-"+ownPurchase) || !p.has("receipt-"+starter2) {
		t.Error("receipts must list exactly the purchases made in this company's experiences")
	}
	if href := p.attr("lookup-"+pro, "href"); href != "/dashboard/"+creator+"?payment="+payPro+"#lookup" {
		t.Errorf("look-up link = %q", href)
	}
	// The chart: one bar per day, today's tall with its refund drawn over it.
	bar := p.find("bar-" + today)
	if bar == nil || !strings.Contains(textOf(bar), "$34.97 from 3 sales, $2.00 refunded") {
		t.Fatalf("today's bar: %v", bar)
	}
	if n := strings.Count(body, `data-testid="bar-`); n != 30 {
		t.Errorf("bars = %d, want 30 days", n)
	}
	if strings.Contains(body, "style=") {
		t.Error("the page carries inline styles, which the CSP forbids")
	}
	// Deliveries: this company's purchases, their refund and dispute; not the owner's sale.
	for _, kind := range []string{"payment.succeeded", "refund.updated", "dispute.created"} {
		if !strings.Contains(p.text("deliveries"), kind) {
			t.Errorf("deliveries lack %s: %s", kind, p.text("deliveries"))
		}
	}
	if got := strings.Count(p.text("deliveries"), "payment.succeeded"); got != 3 {
		t.Errorf("creator sees %d payment.succeeded deliveries, want its 3", got)
	}

	// The owner's dashboard counts the whole app: every company's sales.
	_, body = a.get("/dashboard/"+a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID)
	o := parsePage(t, body)
	if o.text("dashboard-role") != "App owner dashboard" || o.text("stat-gross") != "Taken $39.96 4 sales in 2 companies, 30 days" ||
		!o.has("receipt-"+ownPurchase) || !o.has("receipt-"+pro) || o.text("payout-balance") == "$1,000.00" {
		t.Errorf("owner dashboard: role %q gross %q balance %q", o.text("dashboard-role"), o.text("stat-gross"), o.text("payout-balance"))
	}
	if got := strings.Count(o.text("deliveries"), "payment.succeeded"); got != 4 {
		t.Errorf("owner sees %d payment.succeeded deliveries, want all 4", got)
	}
}

// TestDashboardRoutesRefuseMembersAndOtherAdmins covers every dashboard
// route and API: a member and another company's admin get 403, and nothing
// is refunded, recorded or sent.
func TestDashboardRoutesRefuseMembersAndOtherAdmins(t *testing.T) {
	a := setup(t, withShare(1000))
	creator := a.env.Seed.Creator.ID
	_, pay := a.buyIn(a.experience(), a.member(0), "starter")
	before := a.world()
	payout := map[string]any{"company_id": creator, "recipient": "alice", "amount": "1.00", "idempotency_key": "k1"}
	form := url.Values{"recipient": {"alice"}, "amount": {"1.00"}, "idempotency_key": {"k2"}}
	routes := []struct {
		name string
		do   func(user string) (int, string)
	}{
		{"dashboard page", func(u string) (int, string) { r, b := a.get("/dashboard/"+creator, u); return r.StatusCode, b }},
		{"dashboard look-up", func(u string) (int, string) {
			r, b := a.get("/dashboard/"+creator+"?payment="+pay, u)
			return r.StatusCode, b
		}},
		{"refund confirmation", func(u string) (int, string) {
			r, b := a.get("/dashboard/"+creator+"/payments/"+pay+"/refund", u)
			return r.StatusCode, b
		}},
		{"refund", func(u string) (int, string) {
			s, _, b := a.form("/dashboard/"+creator+"/payments/"+pay+"/refund", u, url.Values{})
			return s, b
		}},
		{"payout form", func(u string) (int, string) {
			s, _, b := a.form("/dashboard/"+creator+"/payouts", u, form)
			return s, b
		}},
		{"payment API", func(u string) (int, string) {
			s, _, b := a.call("GET", "/api/payments/"+pay+"?company_id="+creator, u, nil)
			return s, b
		}},
		{"payout API", func(u string) (int, string) { s, _, b := a.call("POST", "/api/payouts", u, payout); return s, b }},
	}
	users := []struct{ name, id string }{
		{"member", a.member(0)},
		{"admin of another company", a.env.Seed.OwnerAdmin.ID},
		{"no access", a.env.Seed.NoAccess.ID},
	}
	for _, u := range users {
		for _, r := range routes {
			t.Run(u.name+"/"+r.name, func(t *testing.T) {
				status, body := r.do(u.id)
				if status != 403 || !(strings.Contains(body, `"code":"forbidden"`) || strings.Contains(body, "You don&#39;t have access")) {
					t.Fatalf("status %d, want 403 with the forbidden answer: %.300s", status, body)
				}
				if strings.Contains(body, pay) && !strings.Contains(r.name, "look-up") {
					t.Errorf("a refused answer mentions the payment")
				}
			})
		}
	}
	// The admin of the creator company, on the owner's dashboard, is refused too.
	if res, _ := a.get("/dashboard/"+a.env.Seed.Owner.ID, a.env.Seed.Admin.ID); res.StatusCode != 403 {
		t.Errorf("creator admin on the owner's dashboard = %d", res.StatusCode)
	}
	if res, _ := a.get("/dashboard/"+creator, ""); res.StatusCode != 401 {
		t.Errorf("no token = %d, want 401", res.StatusCode)
	}
	if n := a.count(`SELECT count(*) FROM payouts`); n != 0 {
		t.Errorf("%d payouts recorded by refused requests", n)
	}
	after := a.world()
	if len(after.Transfers) != len(before.Transfers) || after.ledgerBalance(a.env.Seed.Creator.LedgerID) != before.ledgerBalance(a.env.Seed.Creator.LedgerID) {
		t.Error("a refused request moved money at the sandbox")
	}
	p, _ := a.whop.GetPayment(a.ctx, pay)
	if p.RefundedAmount != 0 {
		t.Error("a refused refund reached Whop")
	}
}
