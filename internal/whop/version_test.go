package whop

import (
	"errors"
	"net/http"
	"testing"

	"github.com/creditkit/creditkit/internal/money"
)

// TestPinnedVersionNamesPlanOwnerItsWay: the version header goes out on
// every call, and an inline plan names its owner as the pinned version
// does: company_id before 2026-06-09, account_id from then on.
func TestPinnedVersionNamesPlanOwnerItsWay(t *testing.T) {
	for _, tt := range []struct {
		version, body string
	}{
		{"", `{"plan":{"company_id":"biz_1","currency":"usd","initial_price":4.99,"plan_type":"one_time"}}`},
		{"2025-01-01", `{"plan":{"company_id":"biz_1","currency":"usd","initial_price":4.99,"plan_type":"one_time"}}`},
		{"2026-06-08", `{"plan":{"company_id":"biz_1","currency":"usd","initial_price":4.99,"plan_type":"one_time"}}`},
		{"2026-06-09", `{"plan":{"account_id":"biz_1","currency":"usd","initial_price":4.99,"plan_type":"one_time"}}`},
		{"2026-07-01", `{"plan":{"account_id":"biz_1","currency":"usd","initial_price":4.99,"plan_type":"one_time"}}`},
	} {
		t.Run("version "+tt.version, func(t *testing.T) {
			var opts []Option
			if tt.version != "" {
				opts = append(opts, WithAPIVersionDate(tt.version))
			}
			c, f := setup(t, replyJSON(`{"id":"ch_1","plan":{"id":"plan_9"},"account_id":"biz_1","purchase_url":"u"}`), opts...)
			got, err := c.CreateCheckoutConfiguration(t.Context(), CheckoutConfigurationParams{
				CompanyID: "biz_1", Plan: &InlinePlan{Currency: money.USD, InitialPrice: 499}})
			if err != nil {
				t.Fatal(err)
			}
			r := only(t, f)
			assertJSONBody(t, r.Body, tt.body)
			if h := r.Header.Get("Api-Version-Date"); h != tt.version {
				t.Errorf("Api-Version-Date = %q, want %q", h, tt.version)
			}
			if got.CompanyID != "biz_1" || got.PlanID != "plan_9" {
				t.Errorf("configuration = %+v (account_id must be read as the company)", got)
			}
		})
	}
}

// TestGetPlanReadsEitherOwnerShape: a plan's owner arrives as "account"
// from 2026-06-09 and as "company" before; both decode to CompanyID.
func TestGetPlanReadsEitherOwnerShape(t *testing.T) {
	for name, body := range map[string]string{
		"account": `{"id":"plan_1","account":{"id":"biz_a","title":"A"},"product":{"id":"prod_1"}}`,
		"company": `{"id":"plan_1","company":{"id":"biz_a","title":"A"},"product":{"id":"prod_1"}}`,
		"flat":    `{"id":"plan_1","company_id":"biz_a","product":{"id":"prod_1"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, f := setup(t, replyJSON(body), WithAPIVersionDate("2026-07-01"))
			p, err := c.GetPlan(t.Context(), "plan_1")
			if err != nil {
				t.Fatal(err)
			}
			assertRequest(t, only(t, f), http.MethodGet, "/api/v1/plans/plan_1")
			if *p != (Plan{ID: "plan_1", CompanyID: "biz_a", ProductID: "prod_1"}) {
				t.Errorf("plan = %+v", *p)
			}
		})
	}
}

func TestGetAppAndProduct(t *testing.T) {
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/apps/app_1":
			reply(w, 200, `{"id":"app_1","name":"Credits","company":{"id":"biz_o","title":"Owner"}}`)
		case "/api/v1/products/prod_1":
			reply(w, 200, `{"id":"prod_1","title":"Premium","company":{"id":"biz_o"}}`)
		default:
			reply(w, 404, `{"error":{"code":"not_found","message":"no"}}`)
		}
	})
	a, err := c.GetApp(t.Context(), "app_1")
	if err != nil || *a != (App{ID: "app_1", Name: "Credits", CompanyID: "biz_o"}) {
		t.Fatalf("GetApp = %+v, %v", a, err)
	}
	p, err := c.GetProduct(t.Context(), "prod_1")
	if err != nil || *p != (Product{ID: "prod_1", Title: "Premium", CompanyID: "biz_o"}) {
		t.Fatalf("GetProduct = %+v, %v", p, err)
	}
	if _, err := c.GetApp(t.Context(), "app_other"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetApp(other) = %v, want not found", err)
	}
	if len(f.requests()) != 3 {
		t.Fatalf("made %d requests", len(f.requests()))
	}
	if _, err := c.GetPlan(t.Context(), "../x"); err == nil {
		t.Fatal("a path-breaking id was sent")
	}
}
