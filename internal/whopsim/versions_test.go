package whopsim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// Whop's documented versions, in order; the sandbox adds 2026-07-20, the
// date @whop/sdk 0.0.42 sends by default.
const wantVersions = "2025-01-01,2026-06-08,2026-06-09,2026-06-20,2026-07-01,2026-07-20"

func TestAPIVersionUnknownDateIsRefused(t *testing.T) {
	b := setup(t)
	for _, date := range []string{"2026-13-01", "2024-12-31", "2026-06-10", "latest", "2026-7-1"} {
		status, out := b.api("GET", "/api/v1/plans/"+b.Seed.PremiumPlanID, nil, "Api-Version-Date", date)
		if status != http.StatusBadRequest {
			t.Fatalf("Api-Version-Date %q = %d %v, want 400", date, status, out)
		}
		fields(t, out, map[string]string{"error.code": "invalid_api_version"})
		msg := str(t, out, "error.message")
		if !strings.Contains(msg, `"`+date+`"`) || !strings.Contains(msg, strings.ReplaceAll(wantVersions, ",", ", ")) {
			t.Errorf("message %q does not name the date and every supported version", msg)
		}
		var got []string
		for _, v := range at(t, out, "error.supported_versions").([]any) {
			got = append(got, v.(string))
		}
		if strings.Join(got, ",") != wantVersions {
			t.Errorf("supported_versions = %v, want %s", got, wantVersions)
		}
	}
	// The legacy generations predate dated versions and ignore the header.
	pay, _ := b.buy("4.99", nil)
	if status, out := b.api("GET", "/api/v2/payments/"+pay, nil, "Api-Version-Date", "2026-13-01"); status != 200 {
		t.Errorf("v2 with an unknown date = %d %v, want 200", status, out)
	}
	if status, out := b.api("GET", "/api/v5/app/payments/"+pay, nil, "Api-Version-Date", "2026-13-01"); status != 200 {
		t.Errorf("v5 with an unknown date = %d %v, want 200", status, out)
	}
	// Refusing the version comes after the key: a stranger learns nothing.
	if status, _, _ := b.do("GET", "/api/v1/plans/"+b.Seed.PremiumPlanID, nil, "Api-Version-Date", "nope"); status != http.StatusUnauthorized {
		t.Errorf("no key and a bad date = %d, want 401", status)
	}
}

func TestAPIVersionExtraDatesAreAccepted(t *testing.T) {
	b := setup(t, func(o *whopsim.Options) { o.ExtraAPIVersions = []string{"2026-09-15"} })
	if got := strings.Join(b.Sim.APIVersions(), ","); got != wantVersions+",2026-09-15" {
		t.Fatalf("APIVersions = %s", got)
	}
	out := b.mustAPIWith("GET", "/api/v1/plans/"+b.Seed.PremiumPlanID, nil, "2026-09-15")
	fields(t, out, map[string]string{"account.id": b.Seed.Owner.ID})
}

// TestAPIVersionPlanShapes: from 2026-06-09 a plan names its account, before
// it its company; nothing else about the plan changes.
func TestAPIVersionPlanShapes(t *testing.T) {
	b := setup(t)
	path := "/api/v1/plans/" + b.Seed.PremiumPlanID
	for _, tc := range []struct{ date, has, hasNot string }{
		{"", "company", "account"},
		{"2025-01-01", "company", "account"},
		{"2026-06-08", "company", "account"},
		{"2026-06-09", "account", "company"},
		{"2026-06-20", "account", "company"},
		{"2026-07-01", "account", "company"},
		{"2026-07-20", "account", "company"},
	} {
		out := b.mustAPIWith("GET", path, nil, tc.date)
		plan := out.(map[string]any)
		if _, ok := plan[tc.hasNot]; ok {
			t.Errorf("%q: plan has %q: %v", tc.date, tc.hasNot, plan)
		}
		fields(t, out, map[string]string{tc.has + ".id": b.Seed.Owner.ID, "id": b.Seed.PremiumPlanID,
			"plan_type": "renewal", "renewal_price": "9.99", "initial_price": "0", "currency": "usd",
			"billing_period": "30", "product.id": b.Seed.PremiumProductID, "title": "Premium monthly"})
	}
}

// TestAPIVersionInlinePlanAccount: the inline plan of a checkout names its
// company as company_id before 2026-06-09 (account_id is taken too) and as
// account_id from then on, where company_id alone is refused and neither
// means the caller's own company.
func TestAPIVersionInlinePlanAccount(t *testing.T) {
	b := setup(t)
	owner, creator := b.Seed.Owner.ID, b.Seed.Creator.ID
	plan := func(kv ...string) map[string]any {
		p := map[string]any{"currency": "usd", "initial_price": json.Number("4.99")}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return map[string]any{"plan": p}
	}
	for _, tc := range []struct {
		name, date string
		body       map[string]any
		status     int
		company    string // the configuration's company_id, or the error's words
	}{
		{"original, company_id", "", plan("company_id", creator), 200, creator},
		{"original, account_id", "2025-01-01", plan("account_id", creator), 200, creator},
		{"original, both", "2026-06-08", plan("company_id", creator, "account_id", owner), 200, creator},
		{"original, neither", "", plan(), 400, `plan.company_id "" is not a company`},
		{"2026-06-09, account_id", "2026-06-09", plan("account_id", creator), 200, creator},
		{"2026-07-01, both", "2026-07-01", plan("company_id", owner, "account_id", creator), 200, creator},
		{"2026-07-01, neither: the caller's company", "2026-07-01", plan(), 200, owner},
		{"2026-07-01, company_id only", "2026-07-01", plan("company_id", creator), 400,
			"company_id was renamed account_id in API version 2026-06-09; send account_id (this request pins 2026-07-01)"},
		{"2026-07-01, unknown account", "2026-07-01", plan("account_id", "biz_nope"), 400, `plan.account_id "biz_nope" is not a company`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := b.api("POST", "/api/v1/checkout_configurations", tc.body, "Api-Version-Date", tc.date)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, out, tc.status)
			}
			if status == 200 {
				fields(t, out, map[string]string{"company_id": tc.company, "plan.initial_price": "4.99"})
			} else {
				fields(t, out, map[string]string{"error.code": "invalid_request", "error.message": tc.company})
			}
		})
	}
}

// TestAPIVersionUserAccountParam: GET /users/{id} takes the account as
// company_id before 2026-06-08 and account_id from then on.
func TestAPIVersionUserAccountParam(t *testing.T) {
	b := setup(t)
	alice, owner := b.Seed.Members[0], b.Seed.Owner.ID
	for _, tc := range []struct {
		name, date, query string
		status            int
		msg               string
	}{
		{"original, company_id", "", "?company_id=" + owner, 200, ""},
		{"2026-06-08, account_id", "2026-06-08", "?account_id=" + owner, 200, ""},
		{"2026-07-01, no account", "2026-07-01", "", 200, ""},
		{"2026-06-08, company_id", "2026-06-08", "?company_id=" + owner, 400,
			"company_id was renamed account_id in API version 2026-06-08; send account_id (this request pins 2026-06-08)"},
		{"2026-07-01, unknown account", "2026-07-01", "?account_id=biz_nope", 404, `account_id "biz_nope" was not found`},
		{"original, unknown company", "", "?company_id=biz_nope", 404, `company_id "biz_nope" was not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := b.api("GET", "/api/v1/users/"+alice.ID+tc.query, nil, "Api-Version-Date", tc.date)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, out, tc.status)
			}
			if status == 200 {
				fields(t, out, map[string]string{"id": alice.ID, "username": "alice", "name": "Alice Member"})
			} else {
				fields(t, out, map[string]string{"error.message": tc.msg})
			}
		})
	}
}

// mustAPIWith is mustAPI pinned to an API version ("" sends no header).
func (b *bundle) mustAPIWith(method, path string, body any, date string) any {
	b.t.Helper()
	var header []string
	if date != "" {
		header = []string{"Api-Version-Date", date}
	}
	status, out := b.api(method, path, body, header...)
	if status != http.StatusOK {
		b.t.Fatalf("%s %s (Api-Version-Date %q) = %d %v, want 200", method, path, date, status, out)
	}
	return out
}
