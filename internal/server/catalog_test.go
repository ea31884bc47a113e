package server_test

import (
	"testing"

	"github.com/creditkit/creditkit/internal/billing"
)

// TestRepricedItemKeepsEarlierSpends runs the app with one catalog, then
// restarts it (a replica with the new configuration, same database) with
// the item repriced and renamed, then with it removed: each spend keeps the
// title and cost it had, and a retried request still gets its first result.
func TestRepricedItemKeepsEarlierSpends(t *testing.T) {
	a := setup(t, withItems(billing.Item{ID: "boost", Title: "Profile boost", Cost: 20}))
	user := a.member(0)
	ch, plan, _ := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.settle()
	spend := func(base, key string) (int, map[string]any) {
		t.Helper()
		code, out, _ := a.callAt(base, "POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "boost", "idempotency_key": key})
		return code, out
	}
	if code, out := spend(a.url, "first"); code != 200 || out["cost"] != float64(20) || out["title"] != "Profile boost" || out["balance"] != float64(80) {
		t.Fatalf("first spend = %d %v", code, out)
	}

	repriced, _ := a.replica(withItems(billing.Item{ID: "boost", Title: "Mega boost", Cost: 30}))
	if code, out := spend(repriced, "second"); code != 200 || out["cost"] != float64(30) || out["title"] != "Mega boost" || out["balance"] != float64(50) {
		t.Fatalf("spend after repricing = %d %v", code, out)
	}
	if code, out := spend(repriced, "first"); code != 200 || out["replayed"] != true || out["cost"] != float64(20) || out["title"] != "Profile boost" || out["balance"] != float64(80) {
		t.Fatalf("replay of the first spend after repricing = %d %v", code, out)
	}

	removed, _ := a.replica(withItems(billing.Item{ID: "sticker", Title: "Sticker pack", Cost: 5}))
	if code, out := spend(removed, "third"); code != 400 || errCode(out) != "unknown_item" {
		t.Fatalf("spend of a removed item = %d %v, want 400 unknown_item", code, out)
	}
	if code, out := spend(removed, "second"); code != 200 || out["replayed"] != true || out["cost"] != float64(30) || out["title"] != "Mega boost" {
		t.Fatalf("replay after removal = %d %v", code, out)
	}

	rows, err := a.db.Pool.Query(a.ctx, `SELECT s.item_id, s.title, s.cost, s.balance_after, e.amount, e.reference
		FROM spends s JOIN ledger_entries e ON e.id = s.ledger_entry_id ORDER BY s.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		item, title      string
		cost, bal, entry int64
		ref              string
	}
	want := []row{{"boost", "Profile boost", 20, 80, -20, "boost"}, {"boost", "Mega boost", 30, 50, -30, "boost"}}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.item, &r.title, &r.cost, &r.bal, &r.entry, &r.ref); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("spends = %+v, want %+v", got, want)
	}
	if b := a.balance(user); b != 50 {
		t.Fatalf("balance = %d, want 50", b)
	}
}

// errCode is the code of an /api/ error body, or "".
func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}
