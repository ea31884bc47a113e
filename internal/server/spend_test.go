package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/creditkit/creditkit/internal/billing"
)

func TestSpendAPI(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	ch, plan, _ := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.settle()
	body := map[string]string{"experience_id": a.experience(), "item": "boost", "idempotency_key": "click-1"}
	code, out, raw := a.call("POST", "/api/spend", user, body)
	if code != 200 || out["balance"] != float64(80) || out["cost"] != float64(20) || out["item"] != "boost" || out["replayed"] != false {
		t.Fatalf("spend = %d %s", code, raw)
	}
	code, again, _ := a.call("POST", "/api/spend", user, body)
	if code != 200 || again["spend_id"] != out["spend_id"] || again["balance"] != float64(80) || again["replayed"] != true {
		t.Fatalf("replay = %d %v", code, again)
	}
	body["item"] = "sticker"
	code, out, _ = a.call("POST", "/api/spend", user, body)
	if code != 409 || out["error"].(map[string]any)["code"] != "idempotency_conflict" {
		t.Fatalf("same key other item = %d %v", code, out)
	}
	code, out, _ = a.call("POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "review", "idempotency_key": "k2"})
	code2, out2, _ := a.call("POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "review", "idempotency_key": "k3"})
	if code != 200 || code2 != 409 {
		t.Fatalf("review spends = %d then %d", code, code2)
	}
	e := out2["error"].(map[string]any)
	if e["code"] != "insufficient_credits" || e["balance"] != float64(30) || !strings.Contains(e["message"].(string), "balance is 30") {
		t.Fatalf("insufficient = %v", e)
	}
	code, _, _ = a.call("POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "boost"})
	if code != 400 {
		t.Fatalf("spend without key = %d, want 400", code)
	}
	code, _, _ = a.call("POST", "/api/spend", a.env.Seed.NoAccess.ID, map[string]string{"experience_id": a.experience(), "item": "boost", "idempotency_key": "x"})
	if code != 403 {
		t.Fatalf("spend without access = %d, want 403", code)
	}
	if b := a.balance(user); b != 30 {
		t.Fatalf("balance = %d, want 30", b)
	}
}

func TestTwoHundredConcurrentSpendsOverHTTP(t *testing.T) {
	a := setup(t, withItems(billing.Item{ID: "one", Title: "One", Cost: 1}))
	user := a.member(0)
	ch, plan, _ := a.charge(user, "starter")
	a.pay(ch, plan, user)
	a.settle()
	var ok, short int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			code, _, raw := a.call("POST", "/api/spend", user, map[string]string{"experience_id": a.experience(), "item": "one", "idempotency_key": fmt.Sprint("k", i)})
			mu.Lock()
			defer mu.Unlock()
			switch code {
			case 200:
				ok++
			case 409:
				short++
			default:
				t.Errorf("spend %d: %d %s", i, code, raw)
			}
		}(i)
	}
	wg.Wait()
	if ok != 100 || short != 100 || a.balance(user) != 0 {
		t.Fatalf("ok %d, refused %d, balance %d; want 100, 100, 0", ok, short, a.balance(user))
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE balance_after < 0`); n != 0 {
		t.Fatalf("%d entries went negative", n)
	}
}
