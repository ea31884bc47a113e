package ledger_test

import (
	"errors"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
)

// written counts what a settlement can write, to prove one wrote nothing.
func (b *bundle) written(t *testing.T) [5]int {
	t.Helper()
	return [5]int{
		b.count(t, `SELECT count(*) FROM webhook_deliveries`),
		b.count(t, `SELECT count(*) FROM ledger_entries`),
		b.count(t, `SELECT count(*) FROM revenue_shares`),
		b.count(t, `SELECT count(*) FROM river_job`),
		b.count(t, `SELECT count(*) FROM purchases WHERE status = 'paid'`),
	}
}

// The payment's side of the checks is made under the purchase's lock: a
// payment that does not match writes nothing, delivery included, so the
// caller can record the rejection with the delivery.
func TestSettleChecksThePaymentUnderTheLock(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	ok := ledger.PaymentMatch{UserID: "user_1", Currency: "usd", CheckoutID: "ch_pur_a"}
	bad := map[string]ledger.PaymentMatch{
		"another user":     {UserID: "user_2", Currency: "usd", CheckoutID: "ch_pur_a"},
		"another currency": {UserID: "user_1", Currency: "eur", CheckoutID: "ch_pur_a"},
		"another checkout": {UserID: "user_1", Currency: "usd", CheckoutID: "ch_other"},
		"disputed":         {UserID: "user_1", Currency: "usd", CheckoutID: "ch_pur_a", Disputed: true},
	}
	d := &ledger.Delivery{ID: "msg_1", Type: "payment.succeeded", Scheme: "standard", ObjectID: "pay_1"}
	for name, m := range bad {
		_, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499,
			Match: &m, Share: terms()}, d)
		if !errors.Is(err, ledger.ErrPaymentMismatch) {
			t.Errorf("%s: err = %v, want ErrPaymentMismatch", name, err)
		}
	}
	_, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 498,
		Match: &ok}, d)
	if !errors.Is(err, ledger.ErrPaymentMismatch) {
		t.Errorf("paid below the price: err = %v, want ErrPaymentMismatch", err)
	}
	_, err = b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_none", PaymentID: "pay_1", PaidAmount: 499,
		Match: &ok}, d)
	if !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown purchase: err = %v, want ErrNotFound", err)
	}
	if w := b.written(t); w != [5]int{} {
		t.Fatalf("refused settlements wrote (deliveries, entries, shares, jobs, paid) = %v", w)
	}

	res, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499,
		Match: &ok, Share: terms()}, d)
	if err != nil || res.Credited != 100 || res.Balance != 100 || !res.ShareScheduled || res.Purchase.Status != ledger.PurchasePaid {
		t.Fatalf("matching payment: %+v, %v", res, err)
	}
	// A dispute opened after the sale does not make the paid purchase the
	// payment's mismatch: settling it again changes nothing.
	disputed := ok
	disputed.Disputed = true
	res, err = b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499,
		Match: &disputed, Share: terms()}, nil)
	if err != nil || res.Credited != 0 || res.Balance != 100 || res.ShareScheduled {
		t.Fatalf("disputed after the sale: %+v, %v", res, err)
	}
	if w := b.written(t); w != [5]int{1, 1, 1, 1, 1} {
		t.Fatalf("written (deliveries, entries, shares, jobs, paid) = %v, want one of each", w)
	}
}

// The delivery is recorded last, so a repeat (here recorded by another
// path first) undoes everything the statement did before it.
func TestSettleRepeatWritesNothing(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	d := &ledger.Delivery{ID: "msg_1", Type: "payment.succeeded", Scheme: "standard", ObjectID: "pay_1"}
	if err := b.store.RecordDelivery(b.ctx, *d, "ignored: first"); err != nil {
		t.Fatal(err)
	}
	_, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499, Share: terms()}, d)
	if !errors.Is(err, ledger.ErrDuplicateDelivery) {
		t.Fatalf("err = %v, want ErrDuplicateDelivery", err)
	}
	if w := b.written(t); w != [5]int{1, 0, 0, 0, 0} {
		t.Fatalf("written (deliveries, entries, shares, jobs, paid) = %v, want the first delivery only", w)
	}
	dl, _ := b.store.RecentDeliveries(b.ctx, 10)
	if len(dl) != 1 || dl[0].Outcome != "ignored: first" || dl[0].PurchaseID != "" {
		t.Fatalf("deliveries = %+v", dl)
	}
	// A second payment for a paid purchase is refused before the delivery
	// is recorded: the caller records it with the rejection.
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, nil); err != nil {
		t.Fatal(err)
	}
	d2 := &ledger.Delivery{ID: "msg_2", Type: "payment.succeeded", Scheme: "standard", ObjectID: "pay_2"}
	_, err = b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_2", PaidAmount: 499}, d2)
	if !errors.Is(err, ledger.ErrPaidByOtherPayment) || err.Error() != "ledger: settle pur_a: ledger: purchase already paid by another payment (pay_1)" {
		t.Fatalf("err = %v, want ErrPaidByOtherPayment naming pay_1", err)
	}
	if n := b.count(t, `SELECT count(*) FROM webhook_deliveries WHERE id = 'msg_2'`); n != 0 {
		t.Fatalf("the refused delivery was recorded %d times", n)
	}
}

// The share goes to the company the purchase was made in; a sale in the
// owner's own company (FromCompanyID) shares nothing and asks for no job.
func TestSettleSharesOnlyOtherCompaniesSales(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499) // in biz_1
	own := terms()
	own.FromCompanyID = "biz_1"
	res, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499, Share: own}, nil)
	if err != nil || res.ShareScheduled || res.Credited != 100 {
		t.Fatalf("owner's own sale: %+v, %v", res, err)
	}
	if w := b.written(t); w != [5]int{0, 1, 0, 0, 1} {
		t.Fatalf("written (deliveries, entries, shares, jobs, paid) = %v, want no share and no job", w)
	}
	// Without a job inserter the store cannot record a share.
	b.purchase(t, "pur_b", "user_1", 100, 499)
	bare := ledger.NewStore(b.db.Pool)
	_, err = bare.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_b", PaymentID: "pay_2", PaidAmount: 499, Share: terms()}, nil)
	if !errors.Is(err, ledger.ErrNoJobInserter) {
		t.Fatalf("share without a job inserter: err = %v", err)
	}
	if w := b.written(t); w != [5]int{0, 1, 0, 0, 1} {
		t.Fatalf("written (deliveries, entries, shares, jobs, paid) = %v after the refused share", w)
	}
}
