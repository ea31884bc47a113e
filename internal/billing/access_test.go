package billing

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
)

// accessTable is a Whop that answers access checks from a table and
// nothing else (any other call panics: none may be made here).
type accessTable struct {
	Whop
	mu     sync.Mutex
	grants map[[2]string]whop.Access
	asked  int
}

func (a *accessTable) CheckAccess(_ context.Context, user, resource string) (whop.Access, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked++
	g, ok := a.grants[[2]string{user, resource}]
	if !ok {
		return whop.Access{Level: whop.AccessNone}, nil
	}
	return g, nil
}

// TestAccessIsDecidedInBilling: every member and admin use case checks
// access itself, whatever the middleware in front of it did: a user without
// access to the experience gets ErrNoAccess from the wallet, the activity,
// the history export and a charge, and only a company's admin gets its
// premium members; those with access get their answer.
func TestAccessIsDecidedInBilling(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	w := &accessTable{grants: map[[2]string]whop.Access{
		{"user_member", "exp_1"}: {HasAccess: true, Level: whop.AccessCustomer},
		{"user_member", "biz_1"}: {HasAccess: true, Level: whop.AccessCustomer},
		{"user_admin", "biz_1"}:  {HasAccess: true, Level: whop.AccessAdmin},
	}}
	s := New(w, ledger.NewStore(db.Pool), Config{CompanyID: "biz_owner", Currency: money.USD,
		Packages: []Package{{ID: "starter", Credits: 100, Price: 499}}})

	history := func(user string) (int, error) {
		pages := 0
		err := s.Reports.MemberHistory(ctx, user, "exp_1", func([]HistoryRow) error { pages++; return nil })
		return pages, err
	}
	for _, user := range []string{"user_stranger", "user_admin"} { // an admin of the company is no member of the experience
		if _, err := s.Credits.Wallet(ctx, user, "exp_1", false); !errors.Is(err, ErrNoAccess) {
			t.Errorf("%s: Wallet = %v, want ErrNoAccess", user, err)
		}
		if _, err := s.Credits.Activity(ctx, user, "exp_1", 0); !errors.Is(err, ErrNoAccess) {
			t.Errorf("%s: Activity = %v, want ErrNoAccess", user, err)
		}
		if _, err := s.Credits.Balance(ctx, user, "exp_1"); !errors.Is(err, ErrNoAccess) {
			t.Errorf("%s: Balance = %v, want ErrNoAccess", user, err)
		}
		if pages, err := history(user); !errors.Is(err, ErrNoAccess) || pages != 0 {
			t.Errorf("%s: MemberHistory = %v after %d pages, want ErrNoAccess before any", user, err, pages)
		}
		if _, err := s.Credits.Charge(ctx, ChargeRequest{UserID: user, ExperienceID: "exp_1", PackageID: "starter"}); !errors.Is(err, ErrNoAccess) {
			t.Errorf("%s: Charge = %v, want ErrNoAccess", user, err)
		}
	}
	for _, user := range []string{"user_stranger", "user_member"} { // a customer of the company is no admin
		if _, err := s.Premium.Members(ctx, user, "biz_1"); !errors.Is(err, ErrNoAccess) {
			t.Errorf("%s: premium Members = %v, want ErrNoAccess", user, err)
		}
	}

	wal, err := s.Credits.Wallet(ctx, "user_member", "exp_1", false)
	if err != nil || wal.Balance != 0 || len(wal.Receipts) != 0 {
		t.Errorf("member's Wallet = balance %d, %d receipts, %v; want an empty wallet", wal.Balance, len(wal.Receipts), err)
	}
	if bal, err := s.Credits.Balance(ctx, "user_member", "exp_1"); err != nil || bal != 0 {
		t.Errorf("member's Balance = %d, %v; want 0", bal, err)
	}
	if p, err := s.Credits.Activity(ctx, "user_member", "exp_1", 0); err != nil || len(p.Entries) != 0 || p.Balance != 0 {
		t.Errorf("member's Activity = %d entries, balance %d, %v", len(p.Entries), p.Balance, err)
	}
	if _, err := history("user_member"); err != nil {
		t.Errorf("member's MemberHistory = %v", err)
	}
	if list, err := s.Premium.Members(ctx, "user_admin", "biz_1"); err != nil || len(list.Experiences) != 0 || list.AppWide || list.More {
		t.Errorf("admin's premium Members = %+v, %v; want none (premium is off), no error", list, err)
	}
	// Each answer was asked of Whop once and then trusted for the TTL.
	if w.asked != 6 {
		t.Errorf("Whop was asked %d times, want 6 (once per user and resource)", w.asked)
	}
}

// TestAccessCacheRenewsAnAnswerInUseAhead: a look in the last fifth of an
// answer's TTL is answered from the cache and renews it in the background;
// a revocation Whop reports reaches the member by the old answer's expiry
// at the latest, and an expired answer is never used.
func TestAccessCacheRenewsAnAnswerInUseAhead(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	key := [2]string{"user_1", "exp_1"}
	w := &accessTable{grants: map[[2]string]whop.Access{key: {HasAccess: true, Level: whop.AccessCustomer}}}
	c := newAccessCache(w, 30*time.Second, clock)
	asked := func() int { w.mu.Lock(); defer w.mu.Unlock(); return w.asked }
	look := func(want bool, wantAsked int, why string) {
		t.Helper()
		a, err := c.check(ctx, "user_1", "exp_1")
		if err != nil || a.HasAccess != want {
			t.Fatalf("%s: access %t (err %v), want %t", why, a.HasAccess, err, want)
		}
		if n := asked(); n != wantAsked {
			t.Fatalf("%s: Whop asked %d times, want %d", why, n, wantAsked)
		}
	}
	settled := func() {
		t.Helper()
		waitRenewals(t, c.renewals.busy)
	}

	look(true, 1, "first look asks Whop")
	advance(20 * time.Second)
	look(true, 1, "20 s into 30: from the cache, not renewed")

	// Whop revokes; the member looks in the answer's last fifth.
	w.mu.Lock()
	delete(w.grants, key)
	w.mu.Unlock()
	advance(5 * time.Second)
	// (The renewal may reach Whop before this look returns: count after it.)
	if a, err := c.check(ctx, "user_1", "exp_1"); err != nil || !a.HasAccess {
		t.Fatalf("25 s into 30: access %t (err %v), want the cached yes at once", a.HasAccess, err)
	}
	settled()
	if n := asked(); n != 2 {
		t.Fatalf("the look in the last fifth asked Whop %d times in all, want 2 (a renewal)", n)
	}
	look(false, 2, "after the renewal: the revocation, from the cache")

	// Nobody looks until the answer has expired: the next look asks itself.
	advance(time.Minute)
	look(false, 3, "an expired answer is not used")
}
