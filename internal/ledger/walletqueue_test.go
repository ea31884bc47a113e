package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestHotWalletSpendsWaitInTheApp holds the wallet's row lock while 20
// spends arrive: only WalletTurns of them reach Postgres (the rest wait in
// the app, holding no connection), a spend whose context ends while it
// waits leaves the queue with its context's error and spends nothing, and
// once the lock is released every spend that waited is made, exactly once.
func TestHotWalletSpendsWaitInTheApp(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil)
	tx, err := b.db.Pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx)
	if _, err := tx.Exec(b.ctx, `SELECT 1 FROM wallets WHERE experience_id = 'exp_1' AND user_id = 'user_1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	lockWaits := func() int {
		var n int
		if err := b.db.Pool.QueryRow(b.ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	spend := func(ctx context.Context, key string) (ledger.Spend, error) {
		return b.store.Spend(ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "one", Title: "One", Cost: 1, IdempotencyKey: key})
	}

	const n = 20
	results := make(chan error, n)
	for i := range n {
		go func() {
			_, err := spend(b.ctx, fmt.Sprint("k", i))
			results <- err
		}()
	}
	eventually(t, "20 spends queued", func() bool { return b.store.SpendsQueued("exp_1", "user_1") == n })
	eventually(t, "the admitted spends waiting for the row lock", func() bool { return lockWaits() == ledger.WalletTurns })
	time.Sleep(50 * time.Millisecond)
	if got := lockWaits(); got != ledger.WalletTurns {
		t.Fatalf("%d backends wait for the wallet's lock, want %d (the rest in the app)", got, ledger.WalletTurns)
	}

	ctx, cancel := context.WithCancel(b.ctx)
	late := make(chan error, 1)
	go func() {
		_, err := spend(ctx, "late")
		late <- err
	}()
	eventually(t, "the late spend queued", func() bool { return b.store.SpendsQueued("exp_1", "user_1") == n+1 })
	cancel()
	if err := <-late; !errors.Is(err, context.Canceled) {
		t.Fatalf("spend cancelled while queued: %v, want context.Canceled", err)
	}
	if got := b.store.SpendsQueued("exp_1", "user_1"); got != n {
		t.Fatalf("after the cancelled spend left, %d queued, want %d", got, n)
	}

	if err := tx.Rollback(b.ctx); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-results; err != nil {
			t.Errorf("queued spend: %v", err)
		}
	}
	if got := b.store.SpendsQueued("exp_1", "user_1"); got != 0 {
		t.Fatalf("%d spends still queued after all returned", got)
	}
	if bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1"); bal != 100-n {
		t.Fatalf("balance = %d, want %d", bal, 100-n)
	}
	if _, err := b.store.ReplaySpend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "one", IdempotencyKey: "late"}); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("the cancelled spend's key: %v, want ErrNotFound (nothing spent)", err)
	}
	if sp, err := spend(b.ctx, "late"); err != nil || sp.Replayed || sp.BalanceAfter != 100-n-1 {
		t.Fatalf("the cancelled spend retried = %+v, %v", sp, err)
	}
}

// TestManySpendersOfOneWallet has 64 spenders click on one wallet with keys
// that collide across spenders (a retried click arriving while the first
// is in flight): the wallet loses exactly what the distinct keys that were
// answered as spent cost, never goes negative, each key is spent at most
// once, and every answer for a key is its first result.
func TestManySpendersOfOneWallet(t *testing.T) {
	b := setup(t)
	const funds = 500 // about half of what the keys cost
	b.purchase(t, "pur_a", "user_1", funds, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil)
	const spenders, each, keys = 64, 8, 300
	type answer struct {
		key string
		sp  ledger.Spend
	}
	var (
		mu      sync.Mutex
		answers []answer
		short   int
		wg      sync.WaitGroup
	)
	for s := range spenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), 1))
			for range each {
				k := rng.IntN(keys)
				// A key's cost is fixed by the key, as a retried click's would be.
				r := ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "item", Title: "Item",
					Cost: int64(1 + k%7), IdempotencyKey: fmt.Sprint("key-", k)}
				sp, err := b.store.Spend(b.ctx, r)
				mu.Lock()
				switch {
				case err == nil:
					answers = append(answers, answer{r.IdempotencyKey, sp})
				case errors.Is(err, ledger.ErrInsufficientCredits):
					short++
				default:
					t.Errorf("spend %s: %v", r.IdempotencyKey, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	first := map[string]ledger.Spend{}
	var spent int64
	for _, a := range answers {
		if a.sp.BalanceAfter < 0 {
			t.Errorf("spend %s left %d", a.key, a.sp.BalanceAfter)
		}
		f, seen := first[a.key]
		if !seen {
			first[a.key] = a.sp
			spent += a.sp.Cost
			continue
		}
		if a.sp.ID != f.ID || a.sp.BalanceAfter != f.BalanceAfter || a.sp.Cost != f.Cost || !a.sp.CreatedAt.Equal(f.CreatedAt) {
			t.Errorf("key %s answered %+v and %+v", a.key, f, a.sp)
		}
	}
	var firsts int
	for _, a := range answers {
		if !a.sp.Replayed {
			firsts++
		}
	}
	if firsts != len(first) {
		t.Errorf("%d answers were not replays for %d distinct keys spent", firsts, len(first))
	}
	var rows, distinct int
	var sum int64
	if err := b.db.Pool.QueryRow(b.ctx, `SELECT count(*), count(DISTINCT idempotency_key), COALESCE(sum(cost), 0) FROM spends`).
		Scan(&rows, &distinct, &sum); err != nil {
		t.Fatal(err)
	}
	bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1")
	if rows != len(first) || distinct != rows || sum != spent || bal != funds-spent {
		t.Fatalf("spends rows %d (distinct keys %d, cost %d), answered %d keys costing %d, balance %d; want balance %d",
			rows, distinct, sum, len(first), spent, bal, funds-spent)
	}
	// The spenders ask for more than the funds: some are refused, and a
	// refusal means the balance was below a cost of at most 7 (it only falls).
	if short == 0 || bal >= 7 {
		t.Fatalf("refused %d spends with %d credits left; want some refused, with less than 7 left", short, bal)
	}
	if got := b.store.SpendsQueued("exp_1", "user_1"); got != 0 {
		t.Fatalf("%d spends still queued after all returned", got)
	}
}
