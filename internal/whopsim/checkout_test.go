package whopsim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestCreateCheckoutConfiguration(t *testing.T) {
	b := setup(t)
	premium := b.Seed.PremiumPlanID
	tests := []struct {
		name string
		body map[string]any
		want map[string]string
	}{
		{"inline plan with company_id", map[string]any{
			"plan":         map[string]any{"company_id": b.Seed.Owner.ID, "currency": "usd", "initial_price": json.Number("4.99"), "plan_type": "one_time"},
			"metadata":     map[string]any{"purchase_id": "pur_1", "experience_id": b.Seed.Creator.ExperienceID},
			"redirect_url": "https://app.example/purchases/pur_1/return",
		}, map[string]string{
			"plan.initial_price": "4.99", "plan.renewal_price": "0", "plan.currency": "usd", "plan.plan_type": "one_time",
			"plan.billing_period": "<null>", "metadata.purchase_id": "pur_1", "metadata.experience_id": b.Seed.Creator.ExperienceID,
			"mode": "payment", "company_id": b.Seed.Owner.ID, "currency": "usd",
			"redirect_url": "https://app.example/purchases/pur_1/return", "affiliate_code": "<null>",
		}},
		{"inline plan with account_id, as @whop/sdk 0.0.42 sends", map[string]any{
			"plan": map[string]any{"account_id": b.Seed.Owner.ID, "currency": "usd", "initial_price": 24.99},
		}, map[string]string{
			"plan.initial_price": "24.99", "plan.plan_type": "one_time", "company_id": b.Seed.Owner.ID,
			"redirect_url": "<null>", "mode": "payment",
		}},
		{"inline renewal plan", map[string]any{
			"plan": map[string]any{"company_id": b.Seed.Owner.ID, "currency": "usd", "renewal_price": "5", "plan_type": "renewal"},
		}, map[string]string{
			"plan.initial_price": "0", "plan.renewal_price": "5", "plan.plan_type": "renewal", "plan.billing_period": "30",
		}},
		{"plan_id", map[string]any{"plan_id": premium, "metadata": map[string]any{"experience_id": "exp_x"}},
			map[string]string{
				"plan.id": premium, "plan.initial_price": "0", "plan.renewal_price": "9.99", "plan.plan_type": "renewal",
				"plan.billing_period": "30", "metadata.experience_id": "exp_x", "company_id": b.Seed.Owner.ID,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := b.mustAPI("POST", "/api/v1/checkout_configurations", tt.body)
			fields(t, out, tt.want)
			id, plan := str(t, out, "id"), str(t, out, "plan.id")
			if !strings.HasPrefix(id, "ch_") || len(id) != len("ch_")+14 {
				t.Errorf("id = %q, want ch_ and 14 base62 characters", id)
			}
			if !strings.HasPrefix(plan, "plan_") || len(plan) != len("plan_")+14 {
				t.Errorf("plan.id = %q, want plan_ and 14 characters", plan)
			}
			if got, want := str(t, out, "purchase_url"), b.URL+"/checkout/"+plan+"?session="+id; got != want {
				t.Errorf("purchase_url = %q, want %q", got, want)
			}
			again := b.mustAPI("GET", "/api/v1/checkout_configurations/"+id, nil)
			if str(t, again, "plan.id") != plan || str(t, again, "metadata") != str(t, out, "metadata") {
				t.Errorf("GET returned %v, want what POST returned %v", again, out)
			}
		})
	}
}

func TestCreateCheckoutConfigurationRefusals(t *testing.T) {
	b := setup(t)
	plan := func(extra map[string]any) map[string]any {
		p := map[string]any{"company_id": b.Seed.Owner.ID, "currency": "usd", "initial_price": json.Number("4.99")}
		for k, v := range extra {
			p[k] = v
		}
		return map[string]any{"plan": p}
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"nothing to sell", map[string]any{"metadata": map[string]any{}}, 400, "invalid_request"},
		{"both plan and plan_id", map[string]any{"plan_id": b.Seed.PremiumPlanID, "plan": plan(nil)["plan"]}, 400, "invalid_request"},
		{"unknown company", plan(map[string]any{"company_id": "biz_nope"}), 400, "invalid_request"},
		{"no currency", plan(map[string]any{"currency": ""}), 400, "invalid_request"},
		{"a fraction of a cent", plan(map[string]any{"initial_price": json.Number("4.999")}), 400, "invalid_request"},
		{"negative price", plan(map[string]any{"initial_price": json.Number("-1")}), 400, "invalid_request"},
		{"unknown plan type", plan(map[string]any{"plan_type": "forever"}), 400, "invalid_request"},
		{"unknown plan_id", map[string]any{"plan_id": "plan_nope"}, 404, "not_found"},
		{"bad mode", map[string]any{"plan_id": b.Seed.PremiumPlanID, "mode": "gift"}, 400, "invalid_request"},
		{"not JSON", "{", 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := b.api("POST", "/api/v1/checkout_configurations", tt.body)
			if status != tt.status {
				t.Fatalf("status = %d (%v), want %d", status, out, tt.status)
			}
			if got := str(t, out, "error.code"); got != tt.code {
				t.Errorf("error.code = %q, want %q", got, tt.code)
			}
			if str(t, out, "error.message") == "" {
				t.Error("error.message is empty")
			}
		})
	}
	if n := len(b.Sim.Events()); n != 0 {
		t.Errorf("refused requests made %d events", n)
	}
}

func TestAPIKeyRequired(t *testing.T) {
	b := setup(t)
	for _, tt := range []struct {
		path, header string
		want         map[string]string
	}{
		{"/api/v1/payments?company_id=" + b.Seed.Owner.ID, "", map[string]string{"error.code": "unauthorized"}},
		{"/api/v1/users/" + b.Seed.Admin.ID, "Bearer apik_wrong", map[string]string{"error.code": "unauthorized"}},
		{"/api/v2/payments/pay_x", "Basic eA==", map[string]string{"error.status": "401"}},
		{"/api/v5/app/payments/pay_x", "", nil},
	} {
		var h []string
		if tt.header != "" {
			h = []string{"Authorization", tt.header}
		}
		status, out, _ := b.do("GET", tt.path, nil, h...)
		if status != http.StatusUnauthorized {
			t.Errorf("GET %s with %q = %d, want 401", tt.path, tt.header, status)
			continue
		}
		fields(t, out, tt.want)
		if tt.want == nil && str(t, out, "message") == "" {
			t.Errorf("v5 error has no message: %v", out)
		}
	}
}

func TestUnknownRoute(t *testing.T) {
	b := setup(t)
	status, out := b.api("GET", "/api/v1/nothing_here", nil)
	if status != http.StatusNotFound || str(t, out, "error.code") != "not_found" {
		t.Errorf("unknown route = %d %v, want 404 not_found", status, out)
	}
}
