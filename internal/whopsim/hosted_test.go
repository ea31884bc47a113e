package whopsim_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// noRedirects is a client that reports redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// hostedCheckout creates a configuration with metadata and redirect (the
// inline plan when planID is "") and returns its id, plan and purchase_url.
func (b *bundle) hostedCheckout(planID, redirect string) (id, plan, purchaseURL string) {
	b.t.Helper()
	body := map[string]any{"metadata": map[string]any{"creditkit_purchase_id": "pur_h1"}, "redirect_url": redirect}
	if planID != "" {
		body["plan_id"] = planID
	} else {
		body["plan"] = map[string]any{"company_id": b.Seed.Owner.ID, "currency": "usd", "initial_price": 4.99}
	}
	out := b.mustAPI("POST", "/api/v1/checkout_configurations", body)
	return str(b.t, out, "id"), str(b.t, out, "plan.id"), str(b.t, out, "purchase_url")
}

// page fetches a hosted checkout URL (GET, or POST of form) without
// following redirects.
func (b *bundle) page(method, rawURL string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw), res.Header
}

func TestHostedCheckoutPageShowsThePurchase(t *testing.T) {
	b := setup(t)
	id, plan, purchaseURL := b.hostedCheckout("", "http://app.test:8004/purchases/pur_h1/return")
	if purchaseURL != b.URL+"/checkout/"+plan+"?session="+id {
		t.Fatalf("purchase_url = %q", purchaseURL)
	}
	status, html, h := b.page("GET", purchaseURL, nil)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("GET purchase_url = %d %s", status, h.Get("Content-Type"))
	}
	buyer := b.Sim.SelectedUser()
	for _, want := range []string{
		`data-testid="whopsim-checkout-price">$4.99<`, `Pay $4.99`, `Creditkit Labs`, `Creditkit purchase`,
		`action="/checkout/` + plan + `"`, `name="session" value="` + id + `"`,
		`data-testid="whopsim-checkout-return">app.test:8004<`, `data-testid="whopsim-decline"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(html, "@alice") || buyer != b.Seed.Members[0].ID {
		t.Errorf("the page should pay as the signed-in user %s (alice)", buyer)
	}
	if n := len(b.Sim.Events()); n != 0 {
		t.Errorf("showing the page made %d events", n)
	}
}

func TestHostedCheckoutPayAndDeclineRedirectLikeTheModal(t *testing.T) {
	for _, tc := range []struct {
		outcome, status, substatus, event string
	}{
		{"pay", "paid", "succeeded", "payment.succeeded"},
		{"decline", "open", "failed", "payment.failed"},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			b := setup(t)
			back := "http://app.test:8004/purchases/pur_h1/return"
			id, plan, _ := b.hostedCheckout("", back)
			status, _, h := b.page("POST", b.URL+"/checkout/"+plan, url.Values{"session": {id}, "outcome": {tc.outcome}})
			if status != http.StatusSeeOther || h.Get("Location") != back {
				t.Fatalf("POST = %d to %q, want 303 to the redirect_url %q unchanged", status, h.Get("Location"), back)
			}
			list := b.mustAPI("GET", "/api/v1/payments?company_id="+b.Seed.Owner.ID+"&checkout_configuration_ids[]="+id, nil)
			if n := len(at(t, list, "data").([]any)); n != 1 {
				t.Fatalf("payments for the configuration = %d, want 1", n)
			}
			fields(t, list, map[string]string{"data.0.status": tc.status, "data.0.substatus": tc.substatus,
				"data.0.total": "4.99", "data.0.checkout_configuration_id": id,
				"data.0.metadata.creditkit_purchase_id": "pur_h1", "data.0.user.id": b.Sim.SelectedUser()})
			b.idle()
			got := b.hook.Deliveries()
			if len(got) != 1 || !strings.Contains(string(got[0].Body), `"type":"`+tc.event+`"`) ||
				!strings.Contains(string(got[0].Body), `"creditkit_purchase_id":"pur_h1"`) ||
				got[0].Header.Get("webhook-signature") == "" {
				t.Fatalf("deliveries = %d, want one signed %s carrying the metadata", len(got), tc.event)
			}
		})
	}
}

func TestHostedCheckoutWithoutRedirectStaysOnWhop(t *testing.T) {
	b := setup(t)
	id, plan, _ := b.hostedCheckout("", "")
	status, html, _ := b.page("POST", b.URL+"/checkout/"+plan, url.Values{"session": {id}, "outcome": {"pay"}})
	if status != 200 || !strings.Contains(html, "Payment complete") || !strings.Contains(html, "pay_") {
		t.Fatalf("POST without redirect_url = %d, want the confirmation page with the receipt:\n%s", status, html)
	}
}

func TestHostedCheckoutSellsPlansToo(t *testing.T) {
	b := setup(t)
	id, plan, purchaseURL := b.hostedCheckout(b.Seed.PremiumPlanID, "http://app.test/experiences/x")
	_, html, _ := b.page("GET", purchaseURL, nil)
	if !strings.Contains(html, ">$9.99<") || !strings.Contains(html, "then $9.99 every 30 days") {
		t.Errorf("premium page lacks its price and period")
	}
	status, _, _ := b.page("POST", b.URL+"/checkout/"+plan, url.Values{"session": {id}, "outcome": {"pay"}})
	if status != http.StatusSeeOther {
		t.Fatalf("POST = %d, want 303", status)
	}
	b.idle()
	if got := b.eventTypes(); got != "payment.succeeded,membership.activated" {
		t.Errorf("events = %s, want payment.succeeded then membership.activated", got)
	}
}

func TestHostedCheckoutRefusals(t *testing.T) {
	b := setup(t)
	id, plan, _ := b.hostedCheckout("", "http://app.test/back")
	tests := []struct {
		name, method, path string
		form               url.Values
		status             int
		says               string
	}{
		{"unknown session", "GET", "/checkout/" + plan + "?session=ch_nope", nil, 404, "not found"},
		{"another plan", "GET", "/checkout/" + b.Seed.PremiumPlanID + "?session=" + id, nil, 400, "is not the plan of checkout configuration"},
		{"unknown plan", "POST", "/checkout/plan_nope", url.Values{"outcome": {"pay"}}, 404, "not found"},
		{"no outcome", "POST", "/checkout/" + plan, url.Values{"session": {id}}, 400, "outcome must be pay or decline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, html, _ := b.page(tt.method, b.URL+tt.path, tt.form)
			if status != tt.status || !strings.Contains(html, tt.says) || !strings.Contains(html, `data-testid="whopsim-checkout-error"`) {
				t.Fatalf("%s %s = %d, want %d saying %q:\n%s", tt.method, tt.path, status, tt.status, tt.says, html)
			}
		})
	}
	if n := len(b.Sim.Events()); n != 0 {
		t.Errorf("refused checkouts made %d events", n)
	}
}

// TestHostedCheckoutReturnsToTheAppInsideTheParentPage: a redirect_url on
// the relay's origin (the app as the sandbox frames it) brings the buyer
// back to the parent page with the app's return page in the frame, as a
// return to an app's origin does on Whop; its query goes along.
func TestHostedCheckoutReturnsToTheAppInsideTheParentPage(t *testing.T) {
	b := setup(t)
	_, relay := b.Sim.URLs()
	back := relay + "/experiences/exp_1?upgrade=returned"
	id, plan, _ := b.hostedCheckout("", back)
	status, _, h := b.page("POST", b.URL+"/checkout/"+plan, url.Values{"session": {id}, "outcome": {"pay"}})
	want := b.URL + "/?path=" + url.QueryEscape("/experiences/exp_1?upgrade=returned")
	if status != http.StatusSeeOther || h.Get("Location") != want {
		t.Fatalf("POST = %d to %q, want 303 to the parent page %q", status, h.Get("Location"), want)
	}
	b.idle()
}
