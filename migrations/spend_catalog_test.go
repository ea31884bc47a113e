package migrations_test

import (
	"context"
	"testing"

	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/migrations"
)

// TestSpendCatalogKeepsEverySpend applies 000007 to spends made while the
// catalog lived in the schema: each keeps its item, cost and balance, and
// gains the title its item had; the catalog table is gone. Going down
// brings the catalog back with every item a spend names.
func TestSpendCatalogKeepsEverySpend(t *testing.T) {
	ctx := context.Background()
	db := dbAt(t, ctx, 6)
	// A wallet of 100 credits, then a boost (20) and a sticker (5), as the
	// app recorded them before 000007; and an item the owner added by hand.
	for _, sql := range []string{
		`INSERT INTO spend_items (id, name, description, cost) VALUES ('hint', 'Hint', 'A hint.', 3)`,
		// One multi-statement string is one transaction, as the deferred
		// wallet/ledger check needs.
		`INSERT INTO wallets (experience_id, user_id, balance) VALUES ('exp_1', 'user_1', 72);
		 INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key) VALUES
			(1, 'grant', 100, 100, 'g', 'g1'), (1, 'spend', -20, 80, 'boost', 'spend:user_1:a'),
			(1, 'spend', -5, 75, 'sticker', 'spend:user_1:b'), (1, 'spend', -3, 72, 'hint', 'spend:user_1:c');
		 INSERT INTO spends (wallet_id, user_id, item_id, cost, idempotency_key, ledger_entry_id, balance_after) VALUES
			(1, 'user_1', 'boost', 20, 'a', 2, 80), (1, 'user_1', 'sticker', 5, 'b', 3, 75), (1, 'user_1', 'hint', 3, 'c', 4, 72)`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up: %v", err)
	}
	want := []spendRow{{"boost", "Profile boost", 20, 80}, {"sticker", "Sticker pack", 5, 75}, {"hint", "Hint", 3, 72}}
	assertSpends(t, db, `SELECT item_id, title, cost, balance_after FROM spends ORDER BY id`, want)
	var catalog *string
	if err := db.Pool.QueryRow(ctx, `SELECT to_regclass('spend_items')::text`).Scan(&catalog); err != nil || catalog != nil {
		t.Fatalf("spend_items after 000007 = %v (%v), want no table", catalog, err)
	}
	// A spend of an item no catalog table knows is fine now; a bad id is not.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO spends (wallet_id, user_id, item_id, title, cost, idempotency_key, ledger_entry_id, balance_after)
		VALUES (1, 'user_1', 'Not An Id', 'x', 1, 'd', 1, 0)`); err == nil {
		t.Error("a spend with a malformed item id was accepted")
	}

	downTo(t, ctx, db, 6)
	assertSpends(t, db, `SELECT s.item_id, i.name, s.cost, s.balance_after FROM spends s JOIN spend_items i ON i.id = s.item_id ORDER BY s.id`, want)
}

type spendRow struct {
	item, title   string
	cost, balance int64
}

func assertSpends(t *testing.T, db *pgtest.DB, query string, want []spendRow) {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []spendRow
	for rows.Next() {
		var r spendRow
		if err := rows.Scan(&r.item, &r.title, &r.cost, &r.balance); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("spends = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("spend %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
