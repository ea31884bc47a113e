package ledger_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// soon is how far ahead the tests' expiring grants expire: near enough to
// wait for, far enough that the grant is recorded before it even on a
// loaded machine (the database refuses a grant born expired).
const soon = 3 * time.Second

// grant records a grant of credits to user in exp_1, expiring at expires
// (zero: never), and fails the test if it is not created.
func (b *bundle) grant(t *testing.T, id, user string, credits int64, expires time.Time) ledger.CreditGrant {
	t.Helper()
	g, created, err := b.store.GrantCredits(b.ctx, newGrant(id, user, credits, expires))
	if err != nil || !created {
		t.Fatalf("grant %s: created=%t err=%v", id, created, err)
	}
	return g
}

func newGrant(id, user string, credits int64, expires time.Time) ledger.NewCreditGrant {
	return ledger.NewCreditGrant{ID: id, ExperienceID: "exp_1", UserID: user, Username: "alice", CompanyID: "biz_1",
		Credits: credits, Reason: "Welcome gift " + id, ExpiresAt: expires, GrantedBy: "user_admin",
		GrantedByCompany: "biz_1", IdempotencyKey: "key-" + id}
}

// buy records and fulfils a purchase of credits for user in exp_1.
func (b *bundle) buy(t *testing.T, id, user string, credits int64) {
	t.Helper()
	b.purchase(t, id, user, credits, 499)
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: id, PaymentID: "pay_" + id, PaidAmount: 499}, nil); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) spend(t *testing.T, user string, cost int64, key string) (ledger.Spend, error) {
	t.Helper()
	return b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: user, ItemID: "item",
		Title: "Item", Cost: cost, IdempotencyKey: key})
}

// grantState reads a grant back.
func (b *bundle) grantState(t *testing.T, id string) ledger.CreditGrant {
	t.Helper()
	g, err := b.store.CreditGrant(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// waitPast waits until the database's clock has passed at.
func (b *bundle) waitPast(t *testing.T, at time.Time) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var past bool
		if err := b.db.Pool.QueryRow(b.ctx, `SELECT now() >= $1`, at).Scan(&past); err != nil {
			t.Fatal(err)
		}
		if past {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database's clock did not pass %s", at)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGrantCreditsRecordsEveryFieldWithItsExpiryJobAndReplaysByKey(t *testing.T) {
	b := setup(t)
	expires := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Microsecond)
	n := newGrant("grt_1", "user_1", 50, expires)
	g, created, err := b.store.GrantCredits(b.ctx, n)
	if err != nil || !created {
		t.Fatalf("grant: created=%t err=%v", created, err)
	}
	entries, err := b.store.Entries(b.ctx, "exp_1", "user_1")
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries = %+v, %v", entries, err)
	}
	e := entries[0]
	if e.Kind != ledger.KindGrant || e.Amount != 50 || e.BalanceAfter != 50 || e.Reference != "grt_1" || e.IdempotencyKey != "credit_grant:grt_1" {
		t.Errorf("grant entry = %+v", e)
	}
	want := ledger.CreditGrant{ID: "grt_1", ExperienceID: "exp_1", UserID: "user_1", Username: "alice", CompanyID: "biz_1",
		Credits: 50, Reason: "Welcome gift grt_1", ExpiresAt: expires, GrantedBy: "user_admin", GrantedByCompany: "biz_1",
		IdempotencyKey: "key-grt_1", LedgerEntryID: e.ID, CreatedAt: g.CreatedAt}
	if !g.ExpiresAt.Equal(expires) || g.CreatedAt.IsZero() {
		t.Errorf("expires %s (want %s), created %s", g.ExpiresAt, expires, g.CreatedAt)
	}
	g.ExpiresAt = expires
	if g != want {
		t.Errorf("grant = %+v\nwant    %+v", g, want)
	}
	if g.Left() != 50 {
		t.Errorf("left = %d", g.Left())
	}
	state, args, due := b.job(t, ledger.JobGrantExpiry, `{"grant_id":"grt_1"}`)
	if state != "scheduled" || args != `{"grant_id": "grt_1"}` || !due.Equal(expires) {
		t.Errorf("expiry job: %s %s due %s, want scheduled at %s", state, args, due, expires)
	}

	// The same key gives the first grant back and grants nothing more,
	// whatever else the retry says.
	again := n
	again.ID, again.Credits = "grt_2", 70
	got, created, err := b.store.GrantCredits(b.ctx, again)
	if err != nil || created || got.ID != "grt_1" || got.Credits != 50 {
		t.Fatalf("replay = %+v created=%t err=%v", got, created, err)
	}
	if bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1"); bal != 50 {
		t.Errorf("balance after replay = %d, want 50", bal)
	}
	if n := b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'grant_expiry'`); n != 1 {
		t.Errorf("%d expiry jobs, want 1", n)
	}

	// A grant that never expires asks for no job.
	b.grant(t, "grt_3", "user_1", 10, time.Time{})
	if n := b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'grant_expiry'`); n != 1 {
		t.Errorf("%d expiry jobs after a grant without expiry, want 1", n)
	}
	if g := b.grantState(t, "grt_3"); !g.ExpiresAt.IsZero() || g.Left() != 10 {
		t.Errorf("grant without expiry = %+v", g)
	}
}

// TestSpendsUseSoonestExpiringGrantsFirst: the grant expiring first is
// used first, then the later one, then the grant that never expires, and
// only then the bought credits.
func TestSpendsUseSoonestExpiringGrantsFirst(t *testing.T) {
	b := setup(t)
	now := time.Now()
	b.buy(t, "pur_a", "user_1", 100)
	b.grant(t, "grt_later", "user_1", 30, now.Add(2*time.Hour))
	b.grant(t, "grt_never", "user_1", 10, time.Time{})
	b.grant(t, "grt_sooner", "user_1", 20, now.Add(time.Hour))

	steps := []struct {
		cost                 int64
		sooner, later, never int64 // spent of each grant afterwards
		balance              int64
		fromGrants           map[string]int64
	}{
		{25, 20, 5, 0, 135, map[string]int64{"grt_sooner": 20, "grt_later": 5}},
		{30, 20, 30, 5, 105, map[string]int64{"grt_later": 25, "grt_never": 5}},
		{10, 20, 30, 10, 95, map[string]int64{"grt_never": 5}},
		{40, 20, 30, 10, 55, map[string]int64{}},
	}
	for i, st := range steps {
		sp, err := b.spend(t, "user_1", st.cost, "k"+strconv.Itoa(i))
		if err != nil || sp.BalanceAfter != st.balance {
			t.Fatalf("spend %d: %+v, %v; want balance %d", i, sp, err, st.balance)
		}
		if g := b.grantState(t, "grt_sooner"); g.Spent != st.sooner {
			t.Errorf("after spend %d the sooner grant spent %d, want %d", i, g.Spent, st.sooner)
		}
		if g := b.grantState(t, "grt_later"); g.Spent != st.later {
			t.Errorf("after spend %d the later grant spent %d, want %d", i, g.Spent, st.later)
		}
		if g := b.grantState(t, "grt_never"); g.Spent != st.never {
			t.Errorf("after spend %d the grant without expiry spent %d, want %d", i, g.Spent, st.never)
		}
		got := map[string]int64{}
		rows, _ := b.db.Pool.Query(b.ctx, `SELECT gs.grant_id, gs.amount FROM grant_spends gs JOIN spends s
			ON s.ledger_entry_id = gs.ledger_entry_id WHERE s.id = $1`, sp.ID)
		for rows.Next() {
			var id string
			var n int64
			rows.Scan(&id, &n)
			got[id] = n
		}
		rows.Close()
		if len(got) != len(st.fromGrants) {
			t.Errorf("spend %d used %v, want %v", i, got, st.fromGrants)
		}
		for id, n := range st.fromGrants {
			if got[id] != n {
				t.Errorf("spend %d used %v, want %v", i, got, st.fromGrants)
			}
		}
	}
}

// TestExpiryTakesExactlyTheUnspentPartOnce: before its time an expiry does
// nothing; at its time it takes what nobody spent with an 'expiry' entry;
// a second run takes nothing; and from its time on the grant buys nothing,
// even before its job has run.
func TestExpiryTakesExactlyTheUnspentPartOnce(t *testing.T) {
	b := setup(t)
	expires := time.Now().Add(soon)
	b.grant(t, "grt_1", "user_1", 50, expires)
	b.grant(t, "grt_2", "user_1", 40, expires)
	if _, err := b.spend(t, "user_1", 20, "k1"); err != nil {
		t.Fatal(err)
	}
	var notDue *ledger.GrantNotDueError
	if _, err := b.store.ExpireGrant(b.ctx, "grt_1"); !errors.As(err, &notDue) || !notDue.Due.Equal(b.grantState(t, "grt_1").ExpiresAt) {
		t.Fatalf("expire before its time: %v", err)
	}
	b.waitPast(t, expires)

	// Due but not yet taken out: the balance still holds the credits, and
	// no spend may use them; the refusal says what can be spent.
	_, err := b.spend(t, "user_1", 1, "k2")
	var short *ledger.InsufficientCreditsError
	if !errors.As(err, &short) || short.Balance != 0 {
		t.Fatalf("spend of due credits: %v", err)
	}
	if bal, err := b.store.Balance(b.ctx, "exp_1", "user_1"); err != nil || bal != 70 {
		t.Fatalf("balance before the expiry = %d, %v; want 70", bal, err)
	}

	x, err := b.store.ExpireGrant(b.ctx, "grt_1")
	if err != nil || x.Taken != 30 || x.Balance != 40 || x.Already {
		t.Fatalf("expire = %+v, %v; want 30 taken, balance 40", x, err)
	}
	g := x.Grant
	if g.Spent != 20 || g.Expired != 30 || g.Left() != 0 || g.ExpiredAt.IsZero() || g.ExpiryEntryID == 0 {
		t.Errorf("expired grant = %+v", g)
	}
	entries, _ := b.store.Entries(b.ctx, "exp_1", "user_1")
	last := entries[len(entries)-1]
	if last.ID != g.ExpiryEntryID || last.Kind != ledger.KindExpiry || last.Amount != -30 || last.BalanceAfter != 40 ||
		last.Reference != "grt_1" || last.IdempotencyKey != "grant_expiry:grt_1" {
		t.Errorf("expiry entry = %+v", last)
	}
	again, err := b.store.ExpireGrant(b.ctx, "grt_1")
	if err != nil || !again.Already || again.Taken != 0 || again.Balance != 40 || again.Grant != g {
		t.Errorf("second expiry = %+v, %v", again, err)
	}
	// A grant spent in full expires with nothing to take: no entry.
	b.grant(t, "grt_3", "user_2", 5, time.Now().Add(soon))
	if _, err := b.spend(t, "user_2", 5, "k3"); err != nil {
		t.Fatal(err)
	}
	b.waitPast(t, b.grantState(t, "grt_3").ExpiresAt)
	if x, err := b.store.ExpireGrant(b.ctx, "grt_3"); err != nil || x.Taken != 0 || x.Grant.Expired != 0 || x.Grant.ExpiryEntryID != 0 || x.Grant.ExpiredAt.IsZero() || x.Balance != 0 {
		t.Errorf("expiry of a spent grant = %+v, %v", x, err)
	}
	if _, err := b.store.ExpireGrant(b.ctx, "grt_none"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("expire an unknown grant: %v", err)
	}
}

// TestRefundAndExpiryInOneWalletNeverTakeACreditTwice: a refund takes its
// purchase's credits, an expiry its grant's unspent part, and between them
// they never take more than was there to take.
func TestRefundAndExpiryInOneWalletNeverTakeACreditTwice(t *testing.T) {
	cases := []struct {
		name                     string
		spend                    int64
		afterRefund, afterExpiry int64
		expired                  int64
	}{
		// The spend used only granted credits: the refund takes the 100
		// bought, the expiry the 30 granted ones left.
		{"spend within the grant", 20, 30, 0, 30},
		// The spend used the whole grant and 70 bought credits: the refund
		// takes the 100 bought (the balance goes negative, as refunds may),
		// and the expiry finds nothing left to take.
		{"spend beyond the grant", 120, -70, -70, 0},
		// Nothing spent: each takes its own.
		{"nothing spent", 0, 50, 0, 50},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := setup(t)
			user, pur, grt := "user_"+strconv.Itoa(i), "pur_"+strconv.Itoa(i), "grt_"+strconv.Itoa(i)
			b.buy(t, pur, user, 100)
			expires := time.Now().Add(soon)
			b.grant(t, grt, user, 50, expires)
			if c.spend > 0 {
				if _, err := b.spend(t, user, c.spend, "k"); err != nil {
					t.Fatal(err)
				}
			}
			res, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: pur, PaymentID: "pay_" + pur, PaidAmount: 499,
				RefundedAmount: 499, RefundedCredits: 100}, nil)
			if err != nil || res.TakenBack != 100 || res.Balance != c.afterRefund {
				t.Fatalf("refund = %+v, %v; want 100 taken, balance %d", res, err, c.afterRefund)
			}
			if g := b.grantState(t, grt); g.Spent != min(c.spend, 50) || g.Expired != 0 {
				t.Errorf("the refund moved the grant: %+v", g)
			}
			b.waitPast(t, expires)
			x, err := b.store.ExpireGrant(b.ctx, grt)
			if err != nil || x.Taken != c.expired || x.Balance != c.afterExpiry {
				t.Fatalf("expiry = %+v, %v; want %d taken, balance %d", x, err, c.expired, c.afterExpiry)
			}
			// Everything that came in (100 bought, 50 granted) left once:
			// spent, refunded or expired, and the balance is what remains.
			if in, out := int64(150), c.spend+100+x.Taken; in-out != x.Balance {
				t.Errorf("150 in, %d out, balance %d", out, x.Balance)
			}
			if g := x.Grant; g.Spent+g.Expired != g.Credits {
				t.Errorf("expired grant %+v: spent + expired != credits", g)
			}
		})
	}
}
