package server_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestRevenueShareOfNPurchasesIsNTransfersEachOnce buys N packages in the
// creator's experience (and one in the owner's, which shares nothing),
// lets the sandbox fail every first attempt and lose one answer, and checks
// the sandbox's transfers and our rows: N transfers, each once.
func TestRevenueShareOfNPurchasesIsNTransfersEachOnce(t *testing.T) {
	hook := &transferHook{}
	a := setup(t, withShare(1250), withTransferHook(hook)) // 12.5 %
	owner, creator := a.env.Seed.Owner, a.env.Seed.Creator
	type sale struct {
		purchase, payment string
		share             int64
	}
	var sales []sale
	for i, pkg := range []string{"starter", "pro", "starter", "pro", "starter"} {
		pur, pay := a.buyIn(a.experience(), a.member(i%3), pkg)
		share := int64(62) // 499 × 12.5 % = 62.375, rounded down
		if pkg == "pro" {
			share = 312 // 2499 × 12.5 % = 312.375
		}
		sales = append(sales, sale{pur, pay, share})
		// The confirm call after the webhook fulfils nothing and shares nothing more.
		if code, _, raw := a.call("POST", "/api/purchases/"+pur+"/confirm", a.member(i%3), map[string]string{"receipt_id": pay}); code != 200 {
			t.Fatalf("confirm: %d %s", code, raw)
		}
	}
	ownSale, _ := a.buyIn(owner.ExperienceID, a.member(0), "pro")
	if n := a.count(`SELECT count(*) FROM revenue_shares`); n != len(sales) {
		t.Fatalf("shares = %d, want %d", n, len(sales))
	}
	if n := a.count(`SELECT count(*) FROM revenue_shares WHERE purchase_id = $1`, ownSale); n != 0 {
		t.Fatal("a sale in the owner's own experience was shared")
	}
	if n := a.count(`SELECT count(*) FROM river_job WHERE kind = 'revenue_share' AND state = 'available'`); n != len(sales) {
		t.Fatalf("share jobs = %d, want %d", n, len(sales))
	}
	before := a.world()

	// Whop fails every transfer: each job tries (three calls with the
	// client's retries) and stays pending with the error.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus = 1, 500 })
	if n := a.drain(); n != len(sales) {
		t.Fatalf("drained %d jobs, want %d", n, len(sales))
	}
	a.sim.SetFaults(whopsim.Faults{})
	for _, s := range sales {
		sh, _ := a.store.RevenueShareByPayment(a.ctx, s.payment)
		if sh.Status != ledger.TransferPending || sh.Attempts != 1 || !strings.Contains(sh.LastError, "500") {
			t.Fatalf("share after a failed attempt: %+v", sh)
		}
	}
	if len(a.world().Transfers) != len(before.Transfers) {
		t.Fatal("a failed attempt moved money")
	}
	// Whop is back, but the first answer it sends is lost on the way.
	calls := hook.calls()
	hook.on = func(n int, send func() (*http.Response, error)) (*http.Response, error) {
		res, err := send()
		if n == calls+1 && err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return nil, errors.New("connection reset after the request was sent")
		}
		return res, err
	}
	a.advanceJobs()
	if n := a.drain(); n != len(sales) {
		t.Fatalf("second drain ran %d jobs", n)
	}
	a.advanceJobs()
	if n := a.drain(); n != 0 {
		t.Fatalf("paid shares' jobs ran again: %d", n)
	}

	w := a.world()
	if got := len(w.Transfers) - len(before.Transfers); got != len(sales) {
		t.Fatalf("sandbox transfers = %d, want %d", got, len(sales))
	}
	var total int64
	for _, s := range sales {
		sh, _ := a.store.RevenueShareByPayment(a.ctx, s.payment)
		tr, ok := w.Transfers[sh.TransferID]
		want := ledger.RevenueShare{ID: sh.ID, PaymentID: s.payment, PurchaseID: s.purchase, FromCompanyID: owner.ID,
			ToCompanyID: creator.ID, BasisPoints: 1250, BaseAmount: s.share * 10000 / 1250, Amount: s.share, Currency: "usd",
			TransferKey: "creditkit:revenue_share:" + s.payment, TransferAmount: s.share, Status: ledger.TransferPaid, TransferID: tr.ID, ChargedFee: 25,
			Attempts: 2, CreatedAt: sh.CreatedAt, UpdatedAt: sh.UpdatedAt, FinishedAt: sh.FinishedAt}
		want.BaseAmount = map[int64]int64{62: 499, 312: 2499}[s.share]
		if !ok || sh != want || sh.FinishedAt.IsZero() {
			t.Fatalf("share = %+v\nwant %+v", sh, want)
		}
		if tr.OriginID != owner.ID || tr.DestinationID != creator.ID || tr.Amount != s.share || tr.Fee != 25 ||
			tr.IdempotenceKey != sh.TransferKey || tr.Metadata["creditkit_payment_id"] != s.payment {
			t.Fatalf("transfer = %+v", tr)
		}
		total += s.share
	}
	if got := w.ledgerBalance(creator.LedgerID) - before.ledgerBalance(creator.LedgerID); got != total {
		t.Fatalf("creator received %d, want %d", got, total)
	}
	if got := before.ledgerBalance(owner.LedgerID) - w.ledgerBalance(owner.LedgerID); got != total+int64(len(sales))*25 {
		t.Fatalf("owner paid %d, want %d (shares plus fees)", got, total+int64(len(sales))*25)
	}

	// Both dashboards show the shares.
	for _, side := range []struct{ company, admin, heading, counterparty string }{
		{owner.ID, a.env.Seed.OwnerAdmin.ID, "Revenue shared with creators", creator.ID},
		{creator.ID, a.env.Seed.Admin.ID, "Revenue share received", owner.ID},
	} {
		_, body := a.get("/dashboard/"+side.company, side.admin)
		p := parsePage(t, body)
		if !strings.HasPrefix(p.text("shares"), side.heading+" ") || p.text("shares-paid") != "Paid $8.10 5 sales" ||
			p.text("shares-pending") != "Pending $0.00 retried until Whop pays" {
			t.Errorf("%s: %q / %q / %q", side.heading, p.text("shares"), p.text("shares-paid"), p.text("shares-pending"))
		}
		sh, _ := a.store.RevenueShareByPayment(a.ctx, sales[1].payment)
		row := p.cells("share-" + sales[1].payment)
		if len(row) != 5 || row[1] != side.counterparty || row[2] != "$3.12" || row[3] != "Paid "+sh.TransferID || row[4] != "—" {
			t.Errorf("%s row = %q", side.heading, row)
		}
	}
}

// TestRefundAfterTheShareWasPaidIsRecordedAgainstIt: the creator was paid
// its share; a refund then records the creator's part against the share,
// in both dashboards, without moving money or paying again.
func TestRefundAfterTheShareWasPaidIsRecordedAgainstIt(t *testing.T) {
	a := setup(t, withShare(1000))
	_, pay := a.buyIn(a.experience(), a.member(0), "starter")
	a.drain()
	sh, _ := a.store.RevenueShareByPayment(a.ctx, pay)
	if sh.Status != ledger.TransferPaid || sh.Amount != 49 {
		t.Fatalf("share before the refund: %+v", sh)
	}
	transfers := len(a.world().Transfers)
	if err := a.sim.Refund(pay, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	after, _ := a.store.RevenueShareByPayment(a.ctx, pay)
	if after.Status != ledger.TransferPaid || after.Clawback != 49 || after.RefundedAmount != 499 || after.TransferID != sh.TransferID {
		t.Fatalf("share after the refund: %+v", after)
	}
	if n := a.count(`SELECT count(*) FROM webhook_deliveries WHERE outcome LIKE '%refund recorded against the revenue share'`); n != 1 {
		t.Fatalf("deliveries recording the clawback = %d, want 1", n)
	}
	a.advanceJobs()
	a.drain()
	if len(a.world().Transfers) != transfers {
		t.Fatal("the refund moved money or paid the share again")
	}
	for _, who := range []struct{ company, admin string }{
		{a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID}, {a.env.Seed.Creator.ID, a.env.Seed.Admin.ID},
	} {
		_, body := a.get("/dashboard/"+who.company, who.admin)
		p := parsePage(t, body)
		row := p.cells("share-" + pay)
		if p.text("shares-clawback") != "Refunded against shares $0.49 1 refunded sale" || row[4] != "$0.49 of it (refund $4.99)" ||
			!strings.HasPrefix(row[3], "Paid ") {
			t.Errorf("%s: %q / %q", who.company, p.text("shares-clawback"), row)
		}
	}
}
