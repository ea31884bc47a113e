package migrations_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5"
)

// TestPremiumRefundsTieOlderGrantsToTheirPayments applies 000021 to grants
// made before it: the one a premium payment's own webhook granted is tied
// to that payment, the others to none. A refund of the first period's
// payment then finds that older grant by its time and takes its credits
// back. Undone, the schema is 000020's again and the take-back stays in the
// ledger; applied again, the grant is tied to its payment with what was
// taken back, so seeing the refund once more takes nothing.
func TestPremiumRefundsTieOlderGrantsToTheirPayments(t *testing.T) {
	ctx := context.Background()
	db := dbAt(t, ctx, 20)
	before := shape(t, db, "premium_grants")
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, sql := range []string{
		`INSERT INTO memberships (id, user_id, product_id, plan_id, experience_id, status, valid, period_start, period_end,
			whop_created_at, last_event_at)
			VALUES ('mem_a', 'user_1', 'prod_1', 'plan_1', 'exp_1', 'active', true, '2026-03-06 10:00Z', '2026-04-05 10:00Z',
			'2026-01-05 10:00Z', '2026-03-06 10:00Z')`,
		`INSERT INTO webhook_deliveries (id, event_type, scheme, object_id, outcome) VALUES
			('msg_mem', 'membership.activated', 'standard', 'mem_a', 'membership mem_a active; granted 50 credits'),
			('msg_renew', 'payment.succeeded', 'standard', 'pay_renew', 'membership mem_a active; granted 50 credits')`,
		`INSERT INTO wallets (experience_id, user_id, balance) VALUES ('exp_1', 'user_1', 150);
		 INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key) VALUES
			(1, 'grant', 50, 50, 'mem_a', 'grant:mem_a:1'),
			(1, 'grant', 50, 100, 'mem_a', 'grant:mem_a:2'),
			(1, 'grant', 50, 150, 'mem_a', 'grant:mem_a:3');
		 INSERT INTO premium_grants (membership_id, period_start, period_end, user_id, experience_id, credits, ledger_entry_id, delivery_id) VALUES
			('mem_a', '2026-01-05 10:00Z', '2026-02-04 10:00Z', 'user_1', 'exp_1', 50, 1, 'msg_mem'),
			('mem_a', '2026-02-04 10:00Z', '2026-03-06 10:00Z', 'user_1', 'exp_1', 50, 2, 'msg_renew'),
			('mem_a', '2026-03-06 10:00Z', '2026-04-05 10:00Z', 'user_1', 'exp_1', 50, 3, NULL)`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up: %v", err)
	}
	store := ledger.NewStore(db.Pool)
	grants := func() []ledger.PremiumGrant {
		t.Helper()
		g, err := store.PremiumGrants(ctx, "mem_a")
		if err != nil || len(g) != 3 {
			t.Fatalf("grants = %+v, %v", g, err)
		}
		return g
	}
	g := grants()
	for i, want := range []struct {
		payment           string
		refunded, credits int64
	}{{"", 0, 0}, {"pay_renew", 0, 0}, {"", 0, 0}} {
		if g[i].PaymentID != want.payment || g[i].RefundedAmount != want.refunded || g[i].RefundedCredits != want.credits {
			t.Errorf("grant %d after 000021 = %+v, want %+v", i, g[i], want)
		}
	}

	m, err := store.Membership(ctx, "mem_a")
	if err != nil {
		t.Fatal(err)
	}
	refund := ledger.PremiumPayment{ID: "pay_first", At: t0.Add(-2 * time.Second), Reversed: 999,
		TakeBack: func(granted int64) int64 { return granted }}
	res, err := store.RecordPremiumPayment(ctx, m, nil, refund, nil)
	if err != nil || res.TakenBack != 50 || !res.Linked || res.Grant.ID != g[0].ID {
		t.Fatalf("the first period's refund: %+v, %v", res, err)
	}
	g = grants()
	if g[0].PaymentID != "pay_first" || g[0].RefundedAmount != 999 || g[0].RefundedCredits != 50 || g[2].PaymentID != "" {
		t.Fatalf("grants after the refund = %+v", g)
	}
	if bal, _ := store.Balance(ctx, "exp_1", "user_1"); bal != 100 {
		t.Fatalf("balance = %d, want 100", bal)
	}

	downTo(t, ctx, db, 20)
	if after := shape(t, db, "premium_grants"); !slices.Equal(after, before) {
		t.Fatalf("premium_grants after undoing 000021 = %v, want %v", after, before)
	}
	var guards int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_proc WHERE proname = 'premium_grants_guard'`).Scan(&guards); err != nil || guards != 0 {
		t.Fatalf("the guard function left behind: %d, %v", guards, err)
	}
	var entries int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE kind = 'refund' AND amount = -50
		AND reference = 'pay_first' AND idempotency_key = 'premium_refund:' || $1::bigint || ':50'`, g[0].ID).Scan(&entries); err != nil || entries != 1 {
		t.Fatalf("the take-back's entry after the undo: %d, %v", entries, err)
	}

	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up again: %v", err)
	}
	g = grants()
	if g[0].PaymentID != "pay_first" || g[0].RefundedAmount != 0 || g[0].RefundedCredits != 50 || g[1].PaymentID != "pay_renew" {
		t.Fatalf("grants after 000021 again = %+v", g)
	}
	again, err := store.RecordPremiumPayment(ctx, m, nil, refund, nil)
	if err != nil || again.TakenBack != 0 || again.Grant.RefundedAmount != 999 || again.Grant.RefundedCredits != 50 {
		t.Fatalf("the refund seen again: %+v, %v", again, err)
	}
	if bal, _ := store.Balance(ctx, "exp_1", "user_1"); bal != 100 {
		t.Fatalf("balance = %d, want 100", bal)
	}
}

// shape lists what a table is made of: its columns with their types,
// defaults and nullability, its constraints and its triggers, in order.
func shape(t *testing.T, db *pgtest.DB, table string) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `
		SELECT 'column ' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
		  FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1
		UNION ALL
		SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass
		UNION ALL
		SELECT 'trigger ' || tgname || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal
		ORDER BY 1`, table)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}
