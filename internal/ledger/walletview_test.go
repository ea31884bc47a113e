package ledger_test

import (
	"reflect"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
)

// TestWalletViewReceiptsAreThePurchasesAsListed: the member's page reads
// only a receipt's columns; each receipt must be exactly what the full
// purchase says (Purchase.Receipt), pending, failed, paid and refunded
// alike, newest first and no more than asked for, refused only when a
// payment the app refused that charged the buyer is on record for a
// purchase nobody paid.
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
	if _, err := b.store.MarkPurchase(b.ctx, "pur_d", ledger.PaymentState{Status: ledger.PurchaseFailed, Reason: "card declined", Buyer: "alice"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.MarkPurchase(b.ctx, "pur_e", ledger.PaymentState{Status: ledger.PurchaseProcessing}, nil); err != nil {
		t.Fatal(err)
	}

	// Payments the app refused: two that charged the failed purchase's
	// buyer (one short, then one disputed), one for a purchase another
	// payment paid (a buyer who paid twice), which stays a paid receipt,
	// and one another user made on the processing purchase's checkout,
	// which charged its buyer nothing.
	for _, r := range []ledger.Rejection{
		{PaymentID: "pay_d1", PurchaseID: "pur_d", Source: "webhook", Reason: "payment amount 1 is below the price 499", BuyerCharged: true},
		{PaymentID: "pay_d2", PurchaseID: "pur_d", Source: "return", Reason: "payment is disputed (dispute_warning)", BuyerCharged: true},
		{PaymentID: "pay_b2", PurchaseID: "pur_b", Source: "webhook", Reason: "purchase already paid by another payment", BuyerCharged: true},
		{PaymentID: "pay_e2", PurchaseID: "pur_e", Source: "webhook", Reason: "payment user is not the purchase's user"},
	} {
		if err := b.store.RecordRejection(b.ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	refused := map[string]string{"pur_d": "pay_d2"}

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
		want := p.Receipt()
		want.Refused = refused[p.ID] != ""
		if !reflect.DeepEqual(r, want) {
			t.Errorf("receipt %d = %+v\nwant %+v (from %+v)", i, r, want, p)
		}
	}

	// The creator's list names the newest refused payment of a purchase
	// nobody paid, and its rows' receipts are the member's.
	sales, err := b.store.CompanyPurchases(b.ctx, "biz_1", 10)
	if err != nil || len(sales) != 6 {
		t.Fatalf("company purchases = %d, %v; want 6", len(sales), err)
	}
	for _, sale := range sales {
		if sale.RefusedPaymentID != refused[sale.ID] {
			t.Errorf("%s: refused payment %q, want %q", sale.ID, sale.RefusedPaymentID, refused[sale.ID])
		}
		p, err := b.store.Purchase(b.ctx, sale.ID)
		if err != nil || !reflect.DeepEqual(sale.Purchase, p) {
			t.Errorf("%s listed as %+v, want %+v (%v)", sale.ID, sale.Purchase, p, err)
		}
		for _, r := range v.Receipts {
			if r.ID == sale.ID && !reflect.DeepEqual(sale.Receipt(), r) {
				t.Errorf("%s: the creator's receipt %+v, the member's %+v", sale.ID, sale.Receipt(), r)
			}
		}
	}
}
