package billing

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
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

// syncAccess is a Whop whose answers may be asked from the cache's
// background renewal: it counts calls under a lock and reports each.
type syncAccess struct {
	Whop
	mu     sync.Mutex
	member bool
	calls  int
	asked  chan struct{}
}

func (f *syncAccess) CheckAccess(ctx context.Context, userID, resourceID string) (whop.Access, error) {
	f.mu.Lock()
	f.calls++
	member := f.member
	f.mu.Unlock()
	defer func() { f.asked <- struct{}{} }()
	if !member {
		return whop.Access{Level: whop.AccessNone}, nil
	}
	return whop.Access{HasAccess: true, Level: whop.AccessCustomer}, nil
}

// wait takes one report of a call from Whop, failing the test if none
// comes within five seconds.
func (f *syncAccess) wait(t *testing.T, why string) {
	t.Helper()
	select {
	case <-f.asked:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: Whop was not asked", why)
	}
}

// set makes Whop answer member from now on.
func (f *syncAccess) set(member bool) {
	f.mu.Lock()
	f.member = member
	f.mu.Unlock()
}

func (f *syncAccess) counted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// renewingCache is a premium cache with the given TTL on a fake clock
// (read with clockNow, moved with advance), asking a Whop whose answers may
// come from the cache's background renewals.
func renewingCache(ttl time.Duration) (clockNow func() time.Time, advance func(time.Duration), w *syncAccess, clock *fakeClock, c *premiumCache) {
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clockNow = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance = func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	w = &syncAccess{asked: make(chan struct{}, 8)}
	clock = &fakeClock{db: now}
	c = newPremiumCache(w, clock, PremiumConfig{ProductID: "prod_p", PlanID: "plan_p", TTL: ttl}, clockNow)
	return clockNow, advance, w, clock, c
}

// TestPremiumCacheRenewsAnActiveMembersAnswerAhead: a look in an answer's
// last half second answers from the cache at once and asks Whop again in
// the background, so the member's next look past the old expiry finds the
// new answer without waiting; an answer is still never used once expired.
func TestPremiumCacheRenewsAnActiveMembersAnswerAhead(t *testing.T) {
	ctx := context.Background()
	clockNow, advance, w, clock, c := renewingCache(time.Minute)
	look := func(want bool, why string) {
		t.Helper()
		got, err := c.check(ctx, "user_1")
		if err != nil || got != want {
			t.Fatalf("%s: premium %t (err %v), want %t", why, got, err, want)
		}
	}
	look(false, "first look asks Whop")
	w.wait(t, "first look")
	advance(4 * time.Second)
	look(false, "4 s into a 5 s no: cached, not renewed yet")
	if n := w.counted(); n != 1 {
		t.Fatalf("Whop asked %d times by 4 s, want 1", n)
	}

	// The member pays; their webhook is late. A look in the no's last half
	// second answers no at once and renews it in the background.
	w.set(true)
	advance(600 * time.Millisecond)
	look(false, "in the last half second: the cached no, at once")
	w.wait(t, "the renewal")
	waitRenewals(t, c.renewals.busy)
	advance(time.Second) // past the old no's expiry
	look(true, "past the old expiry: the renewed answer, without waiting")
	if n := w.counted(); n != 2 {
		t.Fatalf("Whop asked %d times, want 2 (the first look and one renewal)", n)
	}

	// Nobody looks until the yes has expired: the next look asks itself.
	advance(2 * time.Minute)
	look(true, "a look after expiry asks Whop")
	w.wait(t, "the look after expiry")
	if n := w.counted(); n != 3 {
		t.Fatalf("Whop asked %d times, want 3", n)
	}

	// A change since the answer is never answered from the cache, renewal
	// window or not.
	advance(time.Minute - 300*time.Millisecond)
	w.set(false)
	clock.changed = clockNow()
	clock.db = clockNow().Add(time.Millisecond)
	look(false, "a membership change since the answer: asked again at once")
	w.wait(t, "the look after the change")
}

// waitRenewals waits until no background renewal runs (busy is 0).
func waitRenewals(t *testing.T, busy func() int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); busy() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a renewal never finished")
		}
	}
}

// TestPremiumCacheShowsAnExpiredNoWhileAskingAgain: on the member's page
// (shown) a "no" past its 5 s answers at once, up to the cache's TTL from
// the question, and Whop is asked again in the background, so the next page
// has the new answer; what premium decides (check) never uses it, a "yes"
// is never shown expired, and a membership change since the question, or
// an answer past the TTL, is asked about before the page is answered.
func TestPremiumCacheShowsAnExpiredNoWhileAskingAgain(t *testing.T) {
	ctx := context.Background()
	_, advance, w, clock, c := renewingCache(30 * time.Second)
	// show is the page's look; it lets any renewal it started finish and
	// counts Whop's calls so far.
	show := func(want bool, wantCalls int, why string) {
		t.Helper()
		got, err := c.checkAt(ctx, "user_1", clock.db, clock.changed, true)
		if err != nil || got != want {
			t.Fatalf("%s: shown premium %t (err %v), want %t", why, got, err, want)
		}
		waitRenewals(t, c.renewals.busy)
		if n := w.counted(); n != wantCalls {
			t.Fatalf("%s: Whop asked %d times, want %d", why, n, wantCalls)
		}
		for len(w.asked) > 0 {
			<-w.asked
		}
	}

	show(false, 1, "the first look asks Whop")
	w.set(true) // the member pays; the webhook is late
	advance(10 * time.Second)
	clock.db = clock.db.Add(10 * time.Second)
	// What premium decides asks Whop: the no is past its 5 s.
	if got, err := c.check(ctx, "user_1"); err != nil || !got {
		t.Fatalf("check past the no's 5 s: %t (err %v), want Whop's yes", got, err)
	}
	w.wait(t, "the check past the no's 5 s")

	// A no that expired before anyone asked again: shown, renewed behind.
	c.forget("user_1")
	w.set(false)
	show(false, 3, "a fresh no")
	w.set(true)
	advance(10 * time.Second)
	clock.db = clock.db.Add(10 * time.Second)
	got, err := c.checkAt(ctx, "user_1", clock.db, clock.changed, true)
	if err != nil || got {
		t.Fatalf("an expired no within the TTL: shown %t (err %v), want the old no at once", got, err)
	}
	w.wait(t, "the renewal behind the shown no")
	waitRenewals(t, c.renewals.busy)
	show(true, 4, "the next page: the renewed yes, no wait")

	// A yes is never shown past its expiry: it is asked about first.
	w.set(false)
	advance(31 * time.Second)
	clock.db = clock.db.Add(31 * time.Second)
	show(false, 5, "an expired yes: Whop is asked first")

	// A no past the TTL from its question is asked about first.
	w.set(true)
	advance(31 * time.Second)
	clock.db = clock.db.Add(31 * time.Second)
	show(true, 6, "a no past the TTL: Whop is asked first")

	// A membership change since the question: asked first, even for a no
	// well inside the TTL.
	c.forget("user_1")
	w.set(false)
	show(false, 7, "a fresh no")
	w.set(true)
	advance(6 * time.Second)
	clock.changed = clock.db.Add(time.Second)
	clock.db = clock.db.Add(6 * time.Second)
	show(true, 8, "a membership change since the no: Whop is asked first")
}

// TestWalletFreshAsksWhatPremiumDecides: the wallet of a page the member
// opens shows their expired "no" while Whop is asked again; the wallet the
// page's script re-reads after an upgrade (fresh) asks Whop first, so a
// replica that kept the earlier "no" does not offer the upgrade again.
func TestWalletFreshAsksWhatPremiumDecides(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	var mu sync.Mutex
	now := time.Now()
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	w := &accessTable{grants: map[[2]string]whop.Access{
		{"user_1", "exp_1"}: {HasAccess: true, Level: whop.AccessCustomer},
		{"user_2", "exp_1"}: {HasAccess: true, Level: whop.AccessCustomer},
	}}
	upgrade := func(user string) {
		w.mu.Lock()
		w.grants[[2]string{user, "prod_premium"}] = whop.Access{HasAccess: true, Level: whop.AccessCustomer}
		w.mu.Unlock()
	}
	s := New(w, ledger.NewStore(db.Pool), Config{CompanyID: "biz_owner", Currency: money.USD,
		Premium: PremiumConfig{ProductID: "prod_premium", PlanID: "plan_premium", MonthlyCredits: 50}},
		WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	member := func(user string, fresh bool) bool {
		t.Helper()
		wal, err := s.Credits.Wallet(ctx, user, "exp_1", fresh)
		if err != nil {
			t.Fatal(err)
		}
		return wal.Premium.Member
	}

	for _, user := range []string{"user_1", "user_2"} {
		if member(user, false) {
			t.Fatalf("%s is premium before upgrading", user)
		}
		upgrade(user) // Whop says yes; the membership's webhook has not come
	}
	advance(10 * time.Second)
	if !member("user_1", true) {
		t.Fatal("the page re-read after the upgrade (fresh) showed the 10 s old no; want Whop's yes")
	}
	if member("user_2", false) {
		t.Fatal("a page opened 10 s after the no waited for Whop; want the old no at once")
	}
	waitRenewals(t, s.core.premium.renewals.busy)
	if !member("user_2", false) {
		t.Fatal("the page after the renewal still showed the old no")
	}
}
