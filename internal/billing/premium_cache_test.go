package billing

import (
	"context"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
)

// These pin the cache's timing rules on a fake clock; the integration tests
// in internal/server run it against Postgres and the sandbox.

type fakeAccess struct {
	Whop      // only CheckAccess is used
	member    bool
	calls     int
	beforeAns func() // runs inside CheckAccess, to interleave another check
}

func (f *fakeAccess) CheckAccess(ctx context.Context, userID, resourceID string) (whop.Access, error) {
	f.calls++
	ans := f.member
	if f.beforeAns != nil {
		hook := f.beforeAns
		f.beforeAns = nil
		hook()
	}
	if !ans {
		return whop.Access{Level: whop.AccessNone}, nil
	}
	return whop.Access{HasAccess: true, Level: whop.AccessCustomer}, nil
}

type fakeClock struct{ db, changed time.Time }

func (c *fakeClock) MembershipClock(ctx context.Context, userID string) (time.Time, time.Time, error) {
	return c.db, c.changed, nil
}

func TestPremiumCacheTrustsAnAnswerOnlyUntilAChangeOrItsTTL(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w := &fakeAccess{member: true}
	clock := &fakeClock{db: now}
	c := newPremiumCache(w, clock, PremiumConfig{ProductID: "prod_p", PlanID: "plan_p", TTL: time.Minute}, func() time.Time { return now })
	check := func(want bool, wantCalls int, why string) {
		t.Helper()
		got, err := c.check(ctx, "user_1")
		if err != nil || got != want || w.calls != wantCalls {
			t.Fatalf("%s: premium %t (err %v) after %d Whop calls; want %t after %d", why, got, err, w.calls, want, wantCalls)
		}
	}
	check(true, 1, "first check asks Whop")
	now, clock.db = now.Add(59*time.Second), clock.db.Add(59*time.Second)
	check(true, 1, "within the TTL, no change: cached")

	// A change recorded at the very time the answer was asked counts.
	clock.changed = now.Add(-59 * time.Second)
	w.member = false
	check(false, 2, "a change since the answer: asked again")
	now, clock.db = now.Add(4*time.Second), clock.db.Add(4*time.Second)
	check(false, 2, "a no is cached briefly")
	w.member = true
	now, clock.db = now.Add(2*time.Second), clock.db.Add(2*time.Second)
	check(true, 3, "a no is kept 5 s at most, so a payer whose webhook is lost gets in")
	now, clock.db = now.Add(61*time.Second), clock.db.Add(61*time.Second)
	check(true, 4, "a yes expires with the TTL")

	// A slower check that asked before the latest one must not overwrite it.
	c.forget("user_1")
	older := clock.db
	w.member = false
	w.beforeAns = func() {
		clock.db = older.Add(time.Second)
		w.member = true
		c.check(ctx, "user_1") // asked later, answers yes, stored first
		w.member = false
	}
	got, _ := c.check(ctx, "user_1")
	if got {
		t.Fatal("the slow check's own answer is what it returns")
	}
	if e := c.entries["user_1"]; !e.member || !e.asked.Equal(older.Add(time.Second)) {
		t.Fatalf("entry = %+v, want the later-asked yes kept", e)
	}
}
