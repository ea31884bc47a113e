package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// premium is a valid membership in its first 30-day period, observed at t0.
func premium(id string) ledger.Membership {
	return ledger.Membership{
		ID: id, UserID: "user_1", ProductID: "prod_premium", PlanID: "plan_monthly",
		ExperienceID: "exp_1", ExperienceCompanyID: "biz_1", Status: "active", Valid: true,
		PeriodStart: t0, PeriodEnd: t0.AddDate(0, 0, 30), WhopCreatedAt: t0, LastEventAt: t0,
	}
}

func canceled(m ledger.Membership, at time.Time) ledger.Membership {
	m.Status, m.Valid, m.LastEventAt = "canceled", false, at
	return m
}

func delivery(id string) *ledger.Delivery {
	return &ledger.Delivery{ID: id, Type: "membership.activated", Scheme: "standard", ObjectID: "mem_1"}
}

func TestRecordMembershipStoresEveryField(t *testing.T) {
	b := setup(t)
	before, _, err := b.store.MembershipClock(b.ctx, "user_1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.store.RecordMembership(b.ctx, premium("mem_1"), false, nil, delivery("msg_1"))
	if err != nil || !res.Changed || res.Stale || res.Granted != 0 {
		t.Fatalf("record: %+v, %v", res, err)
	}
	got, err := b.store.Membership(b.ctx, "mem_1")
	if err != nil {
		t.Fatal(err)
	}
	want := premium("mem_1")
	want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
	if !equalMembership(got, want) || !equalMembership(res.Membership, got) {
		t.Fatalf("membership = %+v\nwant %+v", got, want)
	}
	if got.CreatedAt.Before(before) || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("times: created %v updated %v, clock before %v", got.CreatedAt, got.UpdatedAt, before)
	}
	dl, _ := b.store.RecentDeliveries(b.ctx, 5)
	if len(dl) != 1 || dl[0].ID != "msg_1" || dl[0].Outcome != "membership mem_1 active" || dl[0].ObjectID != "mem_1" {
		t.Fatalf("deliveries = %+v", dl)
	}
	if _, err := b.store.RecordMembership(b.ctx, premium("mem_1"), false, nil, delivery("msg_1")); !errors.Is(err, ledger.ErrDuplicateDelivery) {
		t.Fatalf("the same delivery again: err = %v, want ErrDuplicateDelivery", err)
	}

	// A membership bought outside the app has no experience and may have no period.
	bare := ledger.Membership{ID: "mem_2", UserID: "user_2", ProductID: "prod_premium", PlanID: "plan_life",
		Status: "completed", Valid: true, LastEventAt: t0}
	if _, err := b.store.RecordMembership(b.ctx, bare, false, nil, nil); err != nil {
		t.Fatal(err)
	}
	got2, _ := b.store.Membership(b.ctx, "mem_2")
	bare.CreatedAt, bare.UpdatedAt = got2.CreatedAt, got2.UpdatedAt
	if !equalMembership(got2, bare) {
		t.Fatalf("bare membership = %+v", got2)
	}
}

func TestRecordMembershipKeepsTheNewestState(t *testing.T) {
	b := setup(t)
	active := premium("mem_1")
	ended := canceled(active, t0.Add(time.Hour))

	// The deactivation arrives first, then the older activation.
	if res, err := b.store.RecordMembership(b.ctx, ended, false, nil, delivery("msg_2")); err != nil || !res.Changed {
		t.Fatalf("deactivated: %+v %v", res, err)
	}
	_, changedAt, _ := b.store.MembershipClock(b.ctx, "user_1")
	res, err := b.store.RecordMembership(b.ctx, active, false, nil, delivery("msg_1"))
	if err != nil || res.Changed || !res.Stale || res.Membership.Status != "canceled" || res.Membership.Valid {
		t.Fatalf("late activation: %+v %v", res, err)
	}
	got, _ := b.store.Membership(b.ctx, "mem_1")
	if got.Status != "canceled" || got.Valid || !got.LastEventAt.Equal(ended.LastEventAt) {
		t.Fatalf("final state = %+v, want canceled", got)
	}
	if _, again, _ := b.store.MembershipClock(b.ctx, "user_1"); !again.Equal(changedAt) {
		t.Fatalf("a stale state moved the change clock: %v → %v", changedAt, again)
	}

	// The same time with the same state is a repeat; with another state it
	// is ambiguous and writes nothing, not even the delivery.
	if res, err := b.store.RecordMembership(b.ctx, ended, false, nil, delivery("msg_3")); err != nil || res.Changed || res.Stale {
		t.Fatalf("same state again: %+v %v", res, err)
	}
	tie := ended
	tie.Status, tie.Valid = "active", true
	if _, err := b.store.RecordMembership(b.ctx, tie, false, nil, delivery("msg_4")); !errors.Is(err, ledger.ErrAmbiguousOrder) {
		t.Fatalf("a tie: err = %v, want ErrAmbiguousOrder", err)
	}
	if n := b.count(t, `SELECT count(*) FROM webhook_deliveries WHERE id = 'msg_4'`); n != 0 {
		t.Fatal("an ambiguous delivery must not be recorded, so it can be processed again")
	}
	// Read from the source just now, the tie's state wins.
	res, err = b.store.RecordMembership(b.ctx, tie, true, nil, delivery("msg_4"))
	if err != nil || !res.Changed || res.Membership.Status != "active" || !res.Membership.Valid {
		t.Fatalf("authoritative tie: %+v %v", res, err)
	}
	if _, later, _ := b.store.MembershipClock(b.ctx, "user_1"); !later.After(changedAt) {
		t.Fatalf("a recorded change must move the change clock: %v → %v", changedAt, later)
	}
}

func TestPeriodGrantIsGivenOncePerPeriod(t *testing.T) {
	b := setup(t)
	m := premium("mem_1")
	g := &ledger.PeriodGrant{PeriodStart: m.PeriodStart, PeriodEnd: m.PeriodEnd, ExperienceID: "exp_1", Credits: 50}
	res, err := b.store.RecordMembership(b.ctx, m, false, g, delivery("msg_1"))
	if err != nil || res.Granted != 50 || res.Balance != 50 {
		t.Fatalf("first grant: %+v %v", res, err)
	}
	// Another delivery for the same period (the payment's, a retry, a late one).
	for i, st := range []ledger.Membership{m, canceled(m, t0.Add(-time.Minute)), canceled(m, t0.Add(time.Hour))} {
		res, err := b.store.RecordMembership(b.ctx, st, false, g, delivery(fmt.Sprint("msg_again_", i)))
		if err != nil || res.Granted != 0 {
			t.Fatalf("repeat %d: %+v %v", i, res, err)
		}
	}
	// The same period seen with milliseconds (the v1 API) after seconds
	// (a legacy delivery) is still the same period.
	ms := *g
	ms.PeriodStart = t0.Add(250 * time.Millisecond)
	if res, err := b.store.RecordMembership(b.ctx, m, false, &ms, delivery("msg_ms")); err != nil || res.Granted != 0 {
		t.Fatalf("the period in milliseconds: %+v %v", res, err)
	}
	// The next period earns its own grant.
	next := m
	next.Status, next.Valid, next.PeriodStart, next.PeriodEnd, next.LastEventAt = "active", true, m.PeriodEnd, m.PeriodEnd.AddDate(0, 0, 30), t0.AddDate(0, 0, 30)
	g2 := &ledger.PeriodGrant{PeriodStart: next.PeriodStart, PeriodEnd: next.PeriodEnd, ExperienceID: "exp_1", Credits: 50}
	if res, err := b.store.RecordMembership(b.ctx, next, false, g2, delivery("msg_next")); err != nil || res.Granted != 50 || res.Balance != 100 {
		t.Fatalf("second period: %+v %v", res, err)
	}

	grants, err := b.store.PremiumGrants(b.ctx, "mem_1")
	if err != nil || len(grants) != 2 {
		t.Fatalf("grants = %+v, %v", grants, err)
	}
	entries, _ := b.store.Entries(b.ctx, "exp_1", "user_1")
	if len(entries) != 2 {
		t.Fatalf("ledger entries = %+v", entries)
	}
	for i, want := range []ledger.PremiumGrant{
		{MembershipID: "mem_1", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 0, 30), DeliveryID: "msg_1"},
		{MembershipID: "mem_1", PeriodStart: next.PeriodStart, PeriodEnd: next.PeriodEnd, DeliveryID: "msg_next"},
	} {
		got, e := grants[i], entries[i]
		key := fmt.Sprint("grant:mem_1:", want.PeriodStart.UnixMicro())
		if !got.PeriodStart.Equal(want.PeriodStart) || !got.PeriodEnd.Equal(want.PeriodEnd) || got.CreatedAt.IsZero() {
			t.Errorf("grant %d period = %v – %v, created %v", i, got.PeriodStart, got.PeriodEnd, got.CreatedAt)
		}
		want.ID, want.UserID, want.ExperienceID, want.Credits, want.LedgerEntryID, want.CreatedAt = got.ID, "user_1", "exp_1", 50, e.ID, got.CreatedAt
		got.PeriodStart, got.PeriodEnd, want.PeriodStart, want.PeriodEnd = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != want {
			t.Errorf("grant %d = %+v\nwant %+v", i, got, want)
		}
		if e.Kind != ledger.KindGrant || e.Amount != 50 || e.BalanceAfter != int64(50*(i+1)) || e.Reference != "mem_1" || e.IdempotencyKey != key {
			t.Errorf("entry %d = %+v, want a grant of 50 keyed %s", i, e, key)
		}
	}
	one, err := b.store.PeriodGrantOf(b.ctx, "mem_1", next.PeriodStart)
	if err != nil || one.ID != grants[1].ID {
		t.Fatalf("PeriodGrantOf = %+v, %v", one, err)
	}
	if _, err := b.store.PeriodGrantOf(b.ctx, "mem_1", t0.AddDate(1, 0, 0)); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("an ungranted period: err = %v", err)
	}
}

func TestPeriodGrantRacesGrantOnce(t *testing.T) {
	b := setup(t)
	m := premium("mem_1")
	g := &ledger.PeriodGrant{PeriodStart: m.PeriodStart, PeriodEnd: m.PeriodEnd, ExperienceID: "exp_1", Credits: 50}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := b.store.RecordMembership(b.ctx, m, false, g, delivery(fmt.Sprint("msg_", i)))
			if err != nil {
				t.Errorf("delivery %d: %v", i, err)
				return
			}
			mu.Lock()
			total += res.Granted
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1"); total != 50 || bal != 50 {
		t.Fatalf("granted %d, balance %d; want 50 once", total, bal)
	}
}

func TestMembershipQueriesAndConstraints(t *testing.T) {
	b := setup(t)
	older, newer, other := premium("mem_a"), premium("mem_b"), premium("mem_c")
	newer.PeriodEnd = newer.PeriodEnd.AddDate(0, 1, 0)
	other.UserID, other.ExperienceID, other.ExperienceCompanyID = "user_2", "exp_2", "biz_2"
	gone := premium("mem_d")
	gone.UserID = "user_3"
	for _, m := range []ledger.Membership{older, newer, other, canceled(gone, t0)} {
		if _, err := b.store.RecordMembership(b.ctx, m, false, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	v, err := b.store.ValidMembership(b.ctx, "user_1", "prod_premium", "exp_1")
	if err != nil || v.ID != "mem_b" {
		t.Fatalf("ValidMembership = %s, %v; want the one ending last", v.ID, err)
	}
	if _, err := b.store.ValidMembership(b.ctx, "user_3", "prod_premium", "exp_1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("a canceled membership is not valid: %v", err)
	}
	// Several memberships: the one bought in the experience asked about
	// wins over any ending later, then one bought in another experience
	// over one that names none.
	here, there, nowhere := premium("mem_here"), premium("mem_there"), premium("mem_nowhere")
	here.ExperienceID, here.ExperienceCompanyID = "exp_7", "biz_7"
	there.ExperienceID, there.ExperienceCompanyID = "exp_9", "biz_9"
	nowhere.ExperienceID, nowhere.ExperienceCompanyID = "", ""
	there.PeriodEnd, nowhere.PeriodEnd = here.PeriodEnd.AddDate(0, 1, 0), here.PeriodEnd.AddDate(0, 2, 0)
	for _, m := range []ledger.Membership{here, there, nowhere} {
		m.UserID = "user_4"
		if _, err := b.store.RecordMembership(b.ctx, m, false, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for exp, want := range map[string]string{"exp_7": "mem_here", "exp_9": "mem_there", "exp_5": "mem_there"} {
		if v, err := b.store.ValidMembership(b.ctx, "user_4", "prod_premium", exp); err != nil || v.ID != want {
			t.Errorf("ValidMembership(user_4, %s) = %s, %v; want %s", exp, v.ID, err, want)
		}
	}
	list, err := b.store.CompanyMemberships(b.ctx, "biz_1", "prod_premium", 10)
	if err != nil || len(list) != 2 || list[0].ID != "mem_a" || list[1].ID != "mem_b" {
		t.Fatalf("CompanyMemberships(biz_1) = %+v, %v", list, err)
	}
	if list, _ := b.store.CompanyMemberships(b.ctx, "biz_1", "prod_other", 10); len(list) != 0 {
		t.Fatalf("another product's memberships listed: %+v", list)
	}
	var ids []string
	if two, _ := b.store.CompanyMemberships(b.ctx, "", "prod_premium", 2); len(two) != 2 || two[0].ID != "mem_a" || two[1].ID != "mem_b" {
		t.Fatalf("the first two of every company = %+v", two)
	}
	all, err := b.store.CompanyMemberships(b.ctx, "", "prod_premium", 10)
	for _, m := range all {
		ids = append(ids, m.ID+"@"+m.ExperienceID)
	}
	if want := "mem_a@exp_1 mem_b@exp_1 mem_c@exp_2 mem_here@exp_7 mem_there@exp_9 mem_nowhere@"; err != nil || strings.Join(ids, " ") != want {
		t.Fatalf("CompanyMemberships of every company = %q, %v; want %q", ids, err, want)
	}

	for name, sql := range map[string]string{
		"bad id":                 `INSERT INTO memberships (id, user_id, product_id, plan_id, status, valid, last_event_at) VALUES ('x', 'user_1', 'prod_1', 'plan_1', 'active', true, now())`,
		"half a period":          `INSERT INTO memberships (id, user_id, product_id, plan_id, status, valid, period_start, last_event_at) VALUES ('mem_x', 'user_1', 'prod_1', 'plan_1', 'active', true, now(), now())`,
		"company without exp":    `INSERT INTO memberships (id, user_id, product_id, plan_id, experience_company_id, status, valid, last_event_at) VALUES ('mem_x', 'user_1', 'prod_1', 'plan_1', 'biz_1', 'active', true, now())`,
		"grant without entry":    `INSERT INTO premium_grants (membership_id, period_start, user_id, experience_id, credits, ledger_entry_id) VALUES ('mem_a', now(), 'user_1', 'exp_1', 5, 999)`,
		"grant of another entry": `INSERT INTO premium_grants (membership_id, period_start, user_id, experience_id, credits, ledger_entry_id) SELECT 'mem_c', now(), 'user_2', 'exp_2', 5, (SELECT min(id) FROM ledger_entries)`,
	} {
		if name == "grant of another entry" {
			p := b.purchase(t, "pur_z", "user_2", 5, 100)
			if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: p.ID, PaymentID: "pay_z", PaidAmount: 100}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.db.Pool.Exec(b.ctx, sql); err == nil {
			t.Errorf("%s: the database accepted it", name)
		}
	}
}

func equalMembership(a, b ledger.Membership) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.ProductID == b.ProductID && a.PlanID == b.PlanID &&
		a.ExperienceID == b.ExperienceID && a.ExperienceCompanyID == b.ExperienceCompanyID && a.Status == b.Status &&
		a.Valid == b.Valid && a.PeriodStart.Equal(b.PeriodStart) && a.PeriodEnd.Equal(b.PeriodEnd) &&
		a.WhopCreatedAt.Equal(b.WhopCreatedAt) && a.LastEventAt.Equal(b.LastEventAt) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func (b *bundle) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(b.ctx, sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
