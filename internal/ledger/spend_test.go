package ledger_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
)

func TestRefundMayTakeBalanceNegativeAndNegativeCannotSpend(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil)
	if _, err := b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "review", Title: "Expert review", Cost: 50, IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	res, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499, RefundedAmount: 499, RefundedCredits: 100}, nil)
	if err != nil || res.Balance != -50 || res.TakenBack != 100 {
		t.Fatalf("full refund after spending half = %+v, %v; want balance -50", res, err)
	}
	_, err = b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "sticker", Title: "Sticker pack", Cost: 5, IdempotencyKey: "k2"})
	var ic *ledger.InsufficientCreditsError
	if !errors.As(err, &ic) || ic.Balance != -50 || ic.Cost != 5 || !errors.Is(err, ledger.ErrInsufficientCredits) {
		t.Fatalf("spend from a negative balance: %v", err)
	}
}

func TestSpendReplayConflictAndErrors(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil)
	req := ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "boost", Title: "Profile boost", Cost: 20, IdempotencyKey: "click-1"}
	first, err := b.store.Spend(b.ctx, req)
	if err != nil || first.Replayed || first.ItemID != "boost" || first.Title != "Profile boost" || first.Cost != 20 || first.BalanceAfter != 80 || first.ExperienceID != "exp_1" || first.ID == 0 {
		t.Fatalf("first spend = %+v, %v", first, err)
	}
	again, err := b.store.Spend(b.ctx, req)
	if err != nil || !again.Replayed || again.ID != first.ID || again.BalanceAfter != 80 || again.Cost != 20 || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("replay = %+v, %v", again, err)
	}
	if bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1"); bal != 80 {
		t.Fatalf("balance after replay = %d, want 80", bal)
	}
	// The item repriced and renamed since: the retried request still gets
	// its first result, at the first title and cost, and nothing is debited.
	repriced := req
	repriced.Title, repriced.Cost = "Boost", 30
	if again, err := b.store.Spend(b.ctx, repriced); err != nil || !again.Replayed || again.ID != first.ID || again.Title != "Profile boost" || again.Cost != 20 || again.BalanceAfter != 80 {
		t.Fatalf("replay after repricing = %+v, %v", again, err)
	}
	other := req
	other.ItemID, other.Title, other.Cost = "sticker", "Sticker pack", 5
	if _, err := b.store.Spend(b.ctx, other); !errors.Is(err, ledger.ErrIdempotencyConflict) {
		t.Fatalf("same key, other item: %v", err)
	}
	otherExp := req
	otherExp.ExperienceID = "exp_2"
	if _, err := b.store.Spend(b.ctx, otherExp); !errors.Is(err, ledger.ErrIdempotencyConflict) {
		t.Fatalf("same key, other experience: %v", err)
	}
	if _, err := b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "nope", IdempotencyKey: "k"}); err == nil {
		t.Fatal("a spend with no title or cost was recorded")
	}
	var ic *ledger.InsufficientCreditsError
	_, err = b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_2", ItemID: "sticker", Title: "Sticker pack", Cost: 5, IdempotencyKey: "k"})
	if !errors.As(err, &ic) || ic.Balance != 0 || ic.Cost != 5 {
		t.Fatalf("no wallet: %v", err)
	}
}

// TestConcurrentSpendsNeverOverdraw is the exact case: 200 concurrent
// spends of 1 credit against 100 credits.
func TestConcurrentSpendsNeverOverdraw(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil)
	var ok, short, other int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sp, err := b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "one", Title: "One", Cost: 1, IdempotencyKey: fmt.Sprint("k", i)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && sp.BalanceAfter >= 0:
				ok++
			case errors.Is(err, ledger.ErrInsufficientCredits):
				short++
			default:
				other++
				t.Errorf("spend %d: %+v %v", i, sp, err)
			}
		}(i)
	}
	wg.Wait()
	bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1")
	if ok != 100 || short != 100 || other != 0 || bal != 0 {
		t.Fatalf("ok %d short %d other %d balance %d; want 100 100 0 0", ok, short, other, bal)
	}
	var negatives int
	b.db.Pool.QueryRow(b.ctx, `SELECT count(*) FROM ledger_entries WHERE balance_after < 0`).Scan(&negatives)
	if negatives != 0 {
		t.Fatalf("%d entries left a negative balance", negatives)
	}
}

func TestConcurrentSameKeySpendsOnce(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil)
	var wg sync.WaitGroup
	ids := make(chan int64, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp, err := b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: "sticker", Title: "Sticker pack", Cost: 5, IdempotencyKey: "double-click"})
			if err != nil {
				t.Errorf("spend: %v", err)
			}
			ids <- sp.ID
		}()
	}
	wg.Wait()
	close(ids)
	first := <-ids
	for id := range ids {
		if id != first {
			t.Fatalf("same key gave spends %d and %d", first, id)
		}
	}
	if bal, _ := b.store.Balance(b.ctx, "exp_1", "user_1"); bal != 95 {
		t.Fatalf("balance = %d, want 95 (one spend)", bal)
	}
}
