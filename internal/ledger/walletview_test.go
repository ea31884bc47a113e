package ledger_test

import (
	"reflect"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
)

// TestWalletViewReceiptsAreThePurchasesAsListed: the member's page reads
// only a receipt's columns; each receipt must be exactly what the full
// purchase says (Purchase.Receipt), pending, failed, paid and refunded
// alike, newest first and no more than asked for.
func TestWalletViewReceiptsAreThePurchasesAsListed(t *testing.T) {
	b := setup(t)
	v, err := b.store.WalletView(b.ctx, "exp_1", "user_1", 10)
	if err != nil || v.Balance != 0 || v.Receipts == nil || len(v.Receipts) != 0 {
		t.Fatalf("empty wallet view = %+v, %v; want no receipts (an empty list)", v, err)
	}
	ids := []string{"pur_a", "pur_b", "pur_c", "pur_d", "pur_e"}
	for _, id := range ids {
		b.purchase(t, id, "user_1", 100, 499)
	}
	b.purchase(t, "pur_other", "user_2", 100, 499) // another member's: not listed
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_b", PaymentID: "pay_b", PaidAmount: 499}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_c", PaymentID: "pay_c", PaidAmount: 499,
		RefundedAmount: 250, RefundedCredits: 51}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.MarkPurchase(b.ctx, "pur_d", ledger.PurchaseFailed, "card declined", "alice", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.MarkPurchase(b.ctx, "pur_e", ledger.PurchaseProcessing, "", "", nil); err != nil {
		t.Fatal(err)
	}

	v, err = b.store.WalletView(b.ctx, "exp_1", "user_1", 4)
	if err != nil {
		t.Fatal(err)
	}
	if v.Balance != 149 || len(v.Receipts) != 4 {
		t.Fatalf("wallet view: balance %d, %d receipts; want 149 and 4", v.Balance, len(v.Receipts))
	}
	for i, r := range v.Receipts {
		p, err := b.store.Purchase(b.ctx, ids[len(ids)-1-i])
		if err != nil {
			t.Fatal(err)
		}
		if want := p.Receipt(); !reflect.DeepEqual(r, want) {
			t.Errorf("receipt %d = %+v\nwant %+v (from %+v)", i, r, want, p)
		}
	}
}
