package whop

import (
	"testing"
	"time"
)

// TestMembershipTimesAndPeriod checks the fields that order membership
// events and mark their billing period, in both webhook generations.
func TestMembershipTimesAndPeriod(t *testing.T) {
	v1 := deliver(t, SchemeStandard, v1Envelope(EventMembershipDeactivated,
		`{"id":"mem_1","status":"canceled","plan":{"id":"plan_p"},"product":{"id":"prod_p"},"user":{"id":"user_1"},`+
			`"created_at":"2025-01-06T09:00:00.000Z","updated_at":"2025-01-07T10:30:00.250Z",`+
			`"renewal_period_start":"2025-01-06T09:00:00.000Z","renewal_period_end":"2025-02-05T09:00:00.000Z"}`))
	m, err := v1.Membership()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]time.Time{
		"created_at":           {m.CreatedAt, time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)},
		"updated_at":           {m.UpdatedAt, time.Date(2025, 1, 7, 10, 30, 0, 250e6, time.UTC)},
		"renewal_period_start": {m.RenewalPeriodStart, time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)},
		"renewal_period_end":   {m.RenewalPeriodEnd, time.Date(2025, 2, 5, 9, 0, 0, 0, time.UTC)},
	}
	for name, got := range want {
		if !got[0].Equal(got[1]) {
			t.Errorf("%s = %v, want %v", name, got[0], got[1])
		}
	}
	if m.Valid || m.Status != MembershipCanceled {
		t.Errorf("a canceled membership: valid %t status %s", m.Valid, m.Status)
	}

	legacy := deliver(t, SchemeLegacy, legacyEnvelope(EventMembershipWentValid,
		`{"id":"mem_1","product_id":"prod_p","user_id":"user_1","plan_id":"plan_p","status":"active","valid":true,`+
			`"created_at":1736154000,"renewal_period_start":1736154000,"renewal_period_end":1738746000}`))
	m2, err := legacy.Membership()
	if err != nil {
		t.Fatal(err)
	}
	if !m2.UpdatedAt.IsZero() {
		t.Errorf("legacy data has no updated_at, got %v", m2.UpdatedAt)
	}
	if !m2.CreatedAt.Equal(time.Unix(1736154000, 0)) {
		t.Errorf("legacy created_at = %v", m2.CreatedAt)
	}
	if !m2.RenewalPeriodStart.Equal(time.Unix(1736154000, 0)) || !m2.RenewalPeriodEnd.Equal(time.Unix(1738746000, 0)) {
		t.Errorf("legacy period = %v – %v", m2.RenewalPeriodStart, m2.RenewalPeriodEnd)
	}
}
