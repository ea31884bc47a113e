package whopsim_test

import (
	"testing"
)

func TestUsers(t *testing.T) {
	b := setup(t)
	alice := b.Seed.Members[0]
	for _, id := range []string{alice.ID, "alice", "@alice", "ALICE"} {
		out := b.mustAPI("GET", "/api/v1/users/"+id, nil)
		fields(t, out, map[string]string{"id": alice.ID, "username": "alice", "name": "Alice Member",
			"bio": "<null>", "profile_picture": "<null>", "created_at": "2025-01-06T09:00:00.000Z"})
	}
	if status, out := b.api("GET", "/api/v1/users/nobody", nil); status != 404 || str(t, out, "error.code") != "not_found" {
		t.Errorf("unknown user = %d %v, want 404", status, out)
	}
}

func TestAccessChecks(t *testing.T) {
	b := setup(t)
	sd := b.Seed
	alice, carol := sd.Members[0], sd.Members[2]
	tests := []struct {
		user, resource, level string
	}{
		{sd.Admin.ID, sd.Creator.ID, "admin"},
		{sd.Admin.ID, sd.Creator.ExperienceID, "admin"},
		{sd.Admin.ID, sd.CommunityProductID, "admin"},
		{sd.Admin.ID, sd.Owner.ID, "no_access"},
		{sd.OwnerAdmin.ID, sd.Owner.ID, "admin"},
		{sd.OwnerAdmin.ID, sd.PremiumProductID, "admin"},
		{sd.OwnerAdmin.ID, sd.Creator.ID, "no_access"},
		{alice.ID, sd.Creator.ExperienceID, "customer"},
		{alice.ID, sd.Creator.ID, "customer"},
		{alice.ID, sd.Owner.ExperienceID, "customer"},
		{alice.ID, sd.PremiumProductID, "no_access"},
		{carol.ID, sd.PremiumProductID, "customer"},
		{sd.NoAccess.ID, sd.Creator.ExperienceID, "no_access"},
		{sd.NoAccess.ID, sd.Creator.ID, "no_access"},
		{sd.NoAccess.ID, sd.Owner.ExperienceID, "no_access"},
		{sd.NoAccess.ID, sd.PremiumProductID, "no_access"},
	}
	for _, tt := range tests {
		out := b.mustAPI("GET", "/api/v1/users/"+tt.user+"/access/"+tt.resource, nil)
		want := map[string]string{"access_level": tt.level, "has_access": map[bool]string{true: "true", false: "false"}[tt.level != "no_access"]}
		for k, v := range want {
			if got := str(t, out, k); got != v {
				t.Errorf("access of %s to %s: %s = %s, want %s", tt.user, tt.resource, k, got, v)
			}
		}
	}
	if status, _ := b.api("GET", "/api/v1/users/"+alice.ID+"/access/exp_nope", nil); status != 404 {
		t.Errorf("access to an unknown resource = %d, want 404", status)
	}
}

func TestExperiencesAndCompanies(t *testing.T) {
	b := setup(t)
	sd := b.Seed
	exp := b.mustAPI("GET", "/api/v1/experiences/"+sd.Creator.ExperienceID, nil)
	fields(t, exp, map[string]string{"id": sd.Creator.ExperienceID, "name": "Credits",
		"company.id": sd.Creator.ID, "company.title": "Pixel Guild", "company.route": "pixel-guild",
		"app.id": sd.App.ID, "app.name": "Creditkit", "products.0.id": sd.CommunityProductID,
		"created_at": "2025-01-06T09:00:00.000Z"})
	co := b.mustAPI("GET", "/api/v1/companies/"+sd.Creator.ID, nil)
	fields(t, co, map[string]string{"id": sd.Creator.ID, "title": "Pixel Guild", "route": "pixel-guild",
		"owner_user.id": sd.Admin.ID, "owner_user.username": "casey", "member_count": "3", "verified": "false"})
	for _, p := range []string{"/api/v1/experiences/exp_nope", "/api/v1/companies/biz_nope", "/api/v1/plans/plan_nope"} {
		if status, _ := b.api("GET", p, nil); status != 404 {
			t.Errorf("GET %s = %d, want 404", p, status)
		}
	}
	plan := b.mustAPI("GET", "/api/v1/plans/"+sd.PremiumPlanID, nil)
	fields(t, plan, map[string]string{"id": sd.PremiumPlanID, "plan_type": "renewal", "renewal_price": "9.99",
		"billing_period": "30", "company.id": sd.Owner.ID, "product.id": sd.PremiumProductID})
}

func TestMemberships(t *testing.T) {
	b := setup(t)
	sd := b.Seed
	carol := sd.Members[2]
	list := b.mustAPI("GET", "/api/v1/memberships?company_id="+sd.Owner.ID, nil)
	data := at(t, list, "data").([]any)
	if len(data) != 1 {
		t.Fatalf("owner memberships = %d, want carol's premium", len(data))
	}
	fields(t, data[0], map[string]string{"user.id": carol.ID, "user.username": "carol", "status": "active",
		"product.id": sd.PremiumProductID, "plan.id": sd.PremiumPlanID, "company.id": sd.Owner.ID,
		"renewal_period_end": "2025-02-05T09:00:00.000Z"})
	fields(t, list, map[string]string{"page_info.end_cursor": "<null>", "page_info.has_next_page": "false"})

	community := b.mustAPI("GET", "/api/v1/memberships?company_id="+sd.Creator.ID+"&first=2", nil)
	if n := len(at(t, community, "data").([]any)); n != 2 || str(t, community, "page_info.has_next_page") != "true" {
		t.Errorf("creator memberships first=2: %d, has_next %s", n, str(t, community, "page_info.has_next_page"))
	}
	mine := b.mustAPI("GET", "/api/v1/memberships?user_ids[]="+carol.ID+"&statuses[]=active", nil)
	if n := len(at(t, mine, "data").([]any)); n != 2 {
		t.Errorf("carol's active memberships = %d, want community and premium", n)
	}
	id := str(t, data[0], "id")
	one := b.mustAPI("GET", "/api/v1/memberships/"+id, nil)
	fields(t, one, map[string]string{"id": id, "status": "active", "cancel_at_period_end": "false"})

	canceling := b.mustAPI("POST", "/api/v1/memberships/"+id+"/cancel", map[string]any{"cancellation_mode": "at_period_end"})
	fields(t, canceling, map[string]string{"status": "canceling", "cancel_at_period_end": "true"})
	access := b.mustAPI("GET", "/api/v1/users/"+carol.ID+"/access/"+sd.PremiumProductID, nil)
	fields(t, access, map[string]string{"access_level": "customer"})
	ended := b.mustAPI("POST", "/api/v1/memberships/"+id+"/cancel", map[string]any{"cancellation_mode": "immediate"})
	fields(t, ended, map[string]string{"status": "canceled"})
	access = b.mustAPI("GET", "/api/v1/users/"+carol.ID+"/access/"+sd.PremiumProductID, nil)
	fields(t, access, map[string]string{"access_level": "no_access", "has_access": "false"})
	if status, _ := b.api("POST", "/api/v1/memberships/"+id+"/cancel", nil); status != 400 {
		t.Errorf("cancelling a canceled membership = %d, want 400", status)
	}
	b.idle()
	if got := b.eventTypes(); got != "membership.cancel_at_period_end_changed,membership.deactivated" {
		t.Errorf("events = %s, want membership.cancel_at_period_end_changed then membership.deactivated", got)
	}
}
