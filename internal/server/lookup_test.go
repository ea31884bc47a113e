package server_test

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// with returns the app served by a second server on the same database and
// sandbox, configured with opts (another payments API generation).
func (a *app) with(opts ...appOption) *app {
	a.t.Helper()
	var cfg appConfig
	for _, o := range opts {
		o(&cfg)
	}
	h, _, _ := a.build(cfg)
	srv := httptest.NewServer(h)
	a.t.Cleanup(srv.Close)
	alt := *a
	alt.url = srv.URL
	return &alt
}

// TestLookupIsTheSameThroughV1V2AndV5 looks one refunded payment up through
// each API generation: the JSON agrees field for field, except the fields a
// generation does not report, which are null (and say so on the page).
func TestLookupIsTheSameThroughV1V2AndV5(t *testing.T) {
	a := setup(t, withShare(1000))
	creator, admin := a.env.Seed.Creator.ID, a.env.Seed.Admin.ID
	purchase, pay := a.buyIn(a.experience(), a.member(0), "starter")
	if err := a.sim.Refund(pay, 150); err != nil {
		t.Fatal(err)
	}
	a.settle()
	lookups := map[whop.PaymentsAPI]map[string]any{}
	pages := map[whop.PaymentsAPI]*page{}
	for _, api := range []whop.PaymentsAPI{whop.PaymentsV1, whop.PaymentsV2, whop.PaymentsV5} {
		srv := a.with(withPaymentsAPI(api))
		code, _, raw := srv.call("GET", "/api/payments/"+pay+"?company_id="+creator, admin, nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", api, code, raw)
		}
		var out map[string]any
		json.Unmarshal([]byte(raw), &out)
		lookups[api] = out
		_, body := srv.get("/dashboard/"+creator+"?payment="+pay, admin)
		pages[api] = parsePage(t, body)
	}
	v1 := lookups[whop.PaymentsV1]
	user := a.env.Seed.Members[0]
	want := map[string]any{
		"id": pay, "api": "v1", "status": "paid", "substatus": "partially_refunded", "currency": "usd",
		"refund_state": "partial", "can_refund": false, "refundable": false,
		"amounts":             map[string]any{"subtotal": 499.0, "total": 499.0, "refunded": 150.0, "after_fees": 499.0 - 45, "usd_total": 499.0},
		"card":                map[string]any{"brand": "visa", "last4": "4242"},
		"payment_method_type": "card", "billing_reason": "one_time",
		"user":       map[string]any{"id": user.ID, "email": user.Username + "@example.com", "username": user.Username},
		"membership": map[string]any{"id": "", "status": ""},
		"plan_id":    v1["plan_id"], "product_id": "", "company_id": a.env.Seed.Owner.ID,
		"checkout_configuration_id": v1["checkout_configuration_id"],
		"created_at":                v1["created_at"], "paid_at": v1["created_at"], "refunded_at": v1["refunded_at"],
		"updated_at": v1["refunded_at"], "failure_message": "",
		"purchase": map[string]any{"id": purchase, "experience_id": a.experience(), "company_id": creator, "user_id": user.ID, "package": "starter", "credits": 100.0, "price": 499.0, "status": "paid", "refunded_credits": 31.0, "payments": []any{}},
		"revenue_share": map[string]any{"amount": 49.0, "to_company_id": creator, "status": "pending", "transfer_id": "",
			"transfer_amount": nil, "withheld": 15.0, "clawback": 15.0},
		"disputes": []any{}, "refusals": []any{},
	}
	if !jsonEqual(v1, want) {
		t.Fatalf("v1 look-up =\n%s\nwant\n%s", pretty(v1), pretty(want))
	}
	if !strings.HasPrefix(v1["plan_id"].(string), "plan_") || !strings.HasPrefix(v1["checkout_configuration_id"].(string), "ch_") ||
		v1["refunded_at"] == nil || v1["created_at"] == nil {
		t.Fatalf("v1 links and times: %s", pretty(v1))
	}
	unreported := map[whop.PaymentsAPI][]string{
		whop.PaymentsV2: {"substatus", "amounts.after_fees", "amounts.usd_total", "refundable", "updated_at", "membership.status"},
		whop.PaymentsV5: {"substatus", "amounts.usd_total", "refundable", "updated_at", "membership.status",
			"user.username", "billing_reason", "payment_method_type"},
	}
	for api, fields := range unreported {
		expect := clone(v1)
		expect["api"] = string(api)
		for _, f := range fields {
			setPath(expect, f, nil)
		}
		if !jsonEqual(lookups[api], expect) {
			t.Errorf("%s look-up differs from v1 beyond what %s does not report:\n%s\nwant\n%s", api, api, pretty(lookups[api]), pretty(expect))
		}
	}
	// The page shows the same values, and says which ones a generation lacks.
	for _, id := range []string{"payment-total", "payment-subtotal", "payment-refund_state", "payment-card", "payment-user",
		"payment-email", "payment-plan", "payment-checkout", "payment-company", "payment-created_at", "payment-paid_at",
		"payment-refunded_at", "payment-disputes", "payment-revenue_share", "payment-purchase"} {
		v := pages[whop.PaymentsV1].text(id)
		for _, api := range []whop.PaymentsAPI{whop.PaymentsV2, whop.PaymentsV5} {
			if got := pages[api].text(id); got != v {
				t.Errorf("%s on the %s page = %q, v1 shows %q", id, api, got, v)
			}
		}
	}
	p1 := pages[whop.PaymentsV1]
	for id, want := range map[string]string{
		"payment-total": "$4.99", "payment-refund_state": "$1.50 of $4.99 refunded", "payment-card": "visa •••• 4242",
		"payment-substatus": "partially_refunded", "payment-amount_after_fees": "$4.54", "payment-status": "paid · partially refunded",
		"payment-revenue_share": "$0.49 to " + creator + ", pending ($0.34 after refunds)", "payment-api": "via v1",
		"payment-purchase": "Credit purchase " + purchase + ": 100 credits (starter) in " + a.experience() + ", paid.",
	} {
		if got := p1.text(id); got != want {
			t.Errorf("v1 page %s = %q, want %q", id, got, want)
		}
	}
	if got := pages[whop.PaymentsV2].text("payment-amount_after_fees"); got != "not reported by v2" {
		t.Errorf("v2 net amount = %q", got)
	}
	if got := pages[whop.PaymentsV5].text("payment-username"); got != "not reported by v5" {
		t.Errorf("v5 username = %q", got)
	}
	if p1.has("refund-start") {
		t.Error("a refunded payment offers another refund")
	}
}

// TestLookupRefusesOtherCompaniesPaymentsLikeUnknownOnes: a creator sees
// only our purchases in their experiences; the owner sees its company's
// payments; anything else gets the same answer as a payment that does not
// exist.
func TestLookupRefusesOtherCompaniesPaymentsLikeUnknownOnes(t *testing.T) {
	a := setup(t)
	creator, owner := a.env.Seed.Creator.ID, a.env.Seed.Owner.ID
	_, creatorPay := a.buyIn(a.experience(), a.member(0), "starter")
	_, ownerPay := a.buyIn(a.env.Seed.Owner.ExperienceID, a.member(0), "starter")
	premium, err := a.sim.Pay(whopsim.Purchase{PlanID: a.env.Seed.PremiumPlanID, UserID: a.member(1)})
	if err != nil {
		t.Fatal(err)
	}
	// A sale of the creator's own, not through the app.
	co, err := a.whop.CreateCheckoutConfiguration(a.ctx, whop.CheckoutConfigurationParams{CompanyID: creator,
		Plan: &whop.InlinePlan{Currency: money.USD, InitialPrice: 1500, PlanType: whop.PlanOneTime}})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := a.sim.Pay(whopsim.Purchase{CheckoutID: co.ID, PlanID: co.PlanID, UserID: a.member(1)})
	if err != nil {
		t.Fatal(err)
	}
	a.settle()
	look := func(company, user, pay string) (int, string) {
		code, _, raw := a.call("GET", "/api/payments/"+pay+"?company_id="+company, user, nil)
		return code, raw
	}
	_, unknown := look(creator, a.env.Seed.Admin.ID, "pay_doesnotexist0000")
	if !strings.Contains(unknown, `"code":"payment_not_found"`) {
		t.Fatalf("unknown payment: %s", unknown)
	}
	tests := []struct {
		name, company, user, pay string
		visible                  bool
	}{
		{"creator: a purchase in its experience", creator, a.env.Seed.Admin.ID, creatorPay, true},
		{"creator: a purchase in the owner's experience", creator, a.env.Seed.Admin.ID, ownerPay, false},
		{"creator: the owner's premium sale", creator, a.env.Seed.Admin.ID, premium.ReceiptID, false},
		{"creator: its own direct sale", creator, a.env.Seed.Admin.ID, direct.ReceiptID, false},
		{"owner: a purchase in the creator's experience", owner, a.env.Seed.OwnerAdmin.ID, creatorPay, true},
		{"owner: its premium sale", owner, a.env.Seed.OwnerAdmin.ID, premium.ReceiptID, true},
		{"owner: the creator's direct sale", owner, a.env.Seed.OwnerAdmin.ID, direct.ReceiptID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, raw := look(tt.company, tt.user, tt.pay)
			switch {
			case tt.visible && (code != 200 || !strings.Contains(raw, `"id":"`+tt.pay+`"`)):
				t.Fatalf("want the payment, got %d %s", code, raw)
			case !tt.visible && (code != 404 || raw != unknown):
				t.Fatalf("want the not-found answer %s, got %d %s", unknown, code, raw)
			}
			_, body := a.get("/dashboard/"+tt.company+"?payment="+tt.pay, tt.user)
			p := parsePage(t, body)
			if tt.visible != p.has("payment") || (!tt.visible && p.text("lookup-error") != "No payment with that id belongs to this company.") {
				t.Fatalf("page look-up: payment shown %t", p.has("payment"))
			}
		})
	}
	code, _, raw := a.call("GET", "/api/payments/"+creatorPay, a.env.Seed.Admin.ID, nil)
	if code != 400 || !strings.Contains(raw, "company_id is required") {
		t.Errorf("without company_id: %d %s", code, raw)
	}
	code, _, raw = a.call("GET", "/api/payments/not-a-payment?company_id="+creator, a.env.Seed.Admin.ID, nil)
	if code != 400 || !strings.Contains(raw, `"code":"invalid_payment_id"`) {
		t.Errorf("malformed id: %d %s", code, raw)
	}
}

// TestRefundFromTheLookupNeedsConfirmation: the look-up's Refund, on the
// app owner's dashboard, opens a confirmation that changes nothing;
// confirming refunds through Whop, and the refund webhook takes the
// credits back.
func TestRefundFromTheLookupNeedsConfirmation(t *testing.T) {
	a := setup(t)
	owner, admin, user := a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID, a.member(0)
	_, pay := a.buyIn(a.experience(), user, "starter")
	_, body := a.get("/dashboard/"+owner+"?payment="+pay, admin)
	confirmURL := "/dashboard/" + owner + "/payments/" + pay + "/refund"
	if href := parsePage(t, body).attr("refund-start", "href"); href != confirmURL {
		t.Fatalf("refund link = %q", href)
	}
	res, body := a.get(confirmURL, admin)
	p := parsePage(t, body)
	if res.StatusCode != 200 || p.text("refund-payment") != pay || p.text("refund-paid") != "$4.99" ||
		p.text("refund-member") != "@alice ("+user+")" || !strings.HasPrefix(p.text("refund-credits"), "Up to 100 credits") ||
		p.attr("refund-form", "action") != confirmURL || p.attr("refund-cancel", "href") != "/dashboard/"+owner+"?payment="+pay+"#lookup" {
		t.Fatalf("confirmation page: %d %.400s", res.StatusCode, p.text("refund-confirm"))
	}
	if pm, _ := a.whop.GetPayment(a.ctx, pay); pm.RefundedAmount != 0 {
		t.Fatal("showing the confirmation refunded something")
	}
	key := p.attr("refund-key", "value")
	status, _, body := a.form(confirmURL, admin, url.Values{"amount": {"5.00"}, "idempotency_key": {key}})
	if status != 400 || parsePage(t, body).text("refund-error") != "At most $4.99 can be refunded." {
		t.Fatalf("too much: %d", status)
	}
	status, loc, _ := a.form(confirmURL, admin, url.Values{"amount": {"1.00"}, "idempotency_key": {key}})
	if status != 303 || loc != "/dashboard/"+owner+"?payment="+pay+"&notice=refunded#lookup" {
		t.Fatalf("confirm: %d %q", status, loc)
	}
	a.settle()
	if b := a.balance(user); b != 100-21 { // ceil(100 × 100 / 499)
		t.Fatalf("balance after the refund webhook = %d, want 79", b)
	}
	_, body = a.get(loc, admin)
	p = parsePage(t, body)
	if p.text("notice") != "Refund of "+pay+" sent to Whop. Any credits it bought are taken back when Whop confirms it." ||
		p.text("payment-refund_state") != "$1.00 of $4.99 refunded" || p.has("refund-start") {
		t.Fatalf("after the refund: notice %q, state %q", p.text("notice"), p.text("payment-refund_state"))
	}
	status, _, body = a.form(confirmURL, admin, url.Values{})
	if status != 409 || !strings.Contains(body, "cannot be refunded") {
		t.Fatalf("refunding again: %d", status)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func pretty(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func clone(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, v := range out {
		if inner, ok := v.(map[string]any); ok {
			out[k] = clone(inner)
		}
	}
	return out
}

// setPath sets a "a.b" key of nested maps.
func setPath(m map[string]any, path string, v any) {
	head, rest, nested := strings.Cut(path, ".")
	if nested {
		setPath(m[head].(map[string]any), rest, v)
		return
	}
	m[head] = v
}

// TestARefundNoticeNeedsARefund: the notice the refund's redirect shows is
// no claim a link alone makes: not on a creator's dashboard (only the
// owner's admins refund), and not for a payment the look-up shows
// unrefunded. The look-up itself still answers.
func TestARefundNoticeNeedsARefund(t *testing.T) {
	a := setup(t)
	_, pay := a.buyIn(a.experience(), a.member(0), "starter")
	for _, tt := range []struct{ who, company, admin string }{
		{"the creator's admin", a.env.Seed.Creator.ID, a.env.Seed.Admin.ID},
		{"the owner's admin, nothing refunded", a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID},
	} {
		res, body := a.get("/dashboard/"+tt.company+"?payment="+pay+"&notice=refunded", tt.admin)
		p := parsePage(t, body)
		if res.StatusCode != 200 || p.has("notice") || p.text("payment-id") != pay || p.text("payment-refund_state") != "none" {
			t.Errorf("%s: %d, notice %q, look-up of %q, refunds %q; want no notice beside the look-up", tt.who,
				res.StatusCode, p.text("notice"), p.text("payment-id"), p.text("payment-refund_state"))
		}
	}
}
