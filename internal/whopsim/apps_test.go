package whopsim_test

import "testing"

// TestAppsAndProducts: the key's own app is readable with its company; any
// other app id is 404 (an app key sees only its app); a product names its
// company.
func TestAppsAndProducts(t *testing.T) {
	b := setup(t)
	sd := b.Seed
	out := b.mustAPI("GET", "/api/v1/apps/"+sd.App.ID, nil)
	fields(t, out, map[string]string{"id": sd.App.ID, "name": "Creditkit", "company.id": sd.Owner.ID,
		"company.title": "Creditkit Labs", "experience_path": "/experiences/[experienceId]",
		"dashboard_path": "/dashboard/[companyId]", "discover_path": "/discover"})
	for _, id := range []string{"app_someoneelse1", "nope"} {
		if status, out := b.api("GET", "/api/v1/apps/"+id, nil); status != 404 || str(t, out, "error.code") != "not_found" {
			t.Errorf("app %s = %d %v, want 404", id, status, out)
		}
	}
	out = b.mustAPI("GET", "/api/v1/products/"+sd.PremiumProductID, nil)
	fields(t, out, map[string]string{"id": sd.PremiumProductID, "company.id": sd.Owner.ID, "company.title": "Creditkit Labs"})
	out = b.mustAPI("GET", "/api/v1/products/"+sd.CommunityProductID, nil)
	fields(t, out, map[string]string{"id": sd.CommunityProductID, "company.id": sd.Creator.ID})
	if status, _ := b.api("GET", "/api/v1/products/prod_nope", nil); status != 404 {
		t.Errorf("unknown product = %d, want 404", status)
	}
}
