package server_test

import (
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestShareRefundedBeforeItsJobPaysOnlyTheNet: three sales in the creator's
// experience are refunded before their share jobs run. One in full, one in
// part, and one whose success webhook was lost, so the refund webhook
// fulfils it, refunds it and schedules its share in one go. Only the part
// not refunded is transferred; the others send nothing and are cancelled,
// and both dashboards say so.
func TestShareRefundedBeforeItsJobPaysOnlyTheNet(t *testing.T) {
	a := setup(t, withShare(1250)) // 12.5 %: 62 cents of a $4.99 sale
	owner, creator := a.env.Seed.Owner, a.env.Seed.Creator
	full, fullPay := a.buyIn(a.experience(), a.member(0), "starter")
	part, partPay := a.buyIn(a.experience(), a.member(1), "starter")
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	ch, plan, lost := a.charge(a.member(2), "starter")
	lostPay := a.pay(ch, plan, a.member(2))
	a.settle()
	if p, _ := a.store.Purchase(a.ctx, lost); p.Status != ledger.PurchasePending {
		t.Fatalf("the lost success webhook fulfilled the purchase: %+v", p)
	}
	for pay, amount := range map[string]int64{fullPay: 0, partPay: 200, lostPay: 0} {
		if err := a.sim.Refund(pay, amount); err != nil {
			t.Fatal(err)
		}
	}
	a.settle()
	if n := a.count(`SELECT count(*) FROM revenue_shares`); n != 3 {
		t.Fatalf("shares = %d, want 3 (the refund webhook fulfils the lost sale and schedules its share)", n)
	}
	before := a.world()
	if n := a.drain(); n != 3 {
		t.Fatalf("drained %d jobs, want 3", n)
	}
	a.advanceJobs()
	if n := a.drain(); n != 0 {
		t.Fatalf("finished shares' jobs ran again: %d", n)
	}

	w := a.world()
	if got := len(w.Transfers) - len(before.Transfers); got != 1 {
		t.Fatalf("sandbox transfers = %d, want 1 (only the partly refunded sale's net)", got)
	}
	shares := map[string]ledger.RevenueShare{}
	for _, pay := range []string{fullPay, partPay, lostPay} {
		shares[pay], _ = a.store.RevenueShareByPayment(a.ctx, pay)
	}
	paid := shares[partPay]
	tr := w.Transfers[paid.TransferID]
	for pay, purchase := range map[string]string{fullPay: full, partPay: part, lostPay: lost} {
		sh := shares[pay]
		want := ledger.RevenueShare{ID: sh.ID, PaymentID: pay, PurchaseID: purchase, FromCompanyID: owner.ID,
			ToCompanyID: creator.ID, BasisPoints: 1250, BaseAmount: 499, Amount: 62, Currency: "usd",
			TransferKey: "creditkit:revenue_share:" + pay, Status: ledger.TransferCancelled,
			RefundedAmount: 499, Clawback: 62, CreatedAt: sh.CreatedAt, UpdatedAt: sh.UpdatedAt, FinishedAt: sh.FinishedAt}
		if pay == partPay { // 62 less 200 × 12.5 % = 37
			want.Status, want.TransferAmount, want.TransferID, want.ChargedFee, want.Attempts = ledger.TransferPaid, 37, tr.ID, 25, 1
			want.RefundedAmount, want.Clawback = 200, 25
		}
		if sh != want || sh.FinishedAt.IsZero() {
			t.Errorf("share of %s = %+v\nwant %+v", pay, sh, want)
		}
	}
	if tr.Amount != 37 || tr.IdempotenceKey != paid.TransferKey || tr.DestinationID != creator.ID {
		t.Fatalf("transfer = %+v", tr)
	}
	if got := w.ledgerBalance(creator.LedgerID) - before.ledgerBalance(creator.LedgerID); got != 37 {
		t.Fatalf("creator received %d, want 37", got)
	}
	if got := before.ledgerBalance(owner.LedgerID) - w.ledgerBalance(owner.LedgerID); got != 37+25 {
		t.Fatalf("owner paid %d, want 62 (37 and the fee)", got)
	}

	for _, side := range []struct{ company, admin, counterparty string }{
		{owner.ID, a.env.Seed.OwnerAdmin.ID, creator.ID},
		{creator.ID, a.env.Seed.Admin.ID, owner.ID},
	} {
		_, body := a.get("/dashboard/"+side.company, side.admin)
		p := parsePage(t, body)
		for id, want := range map[string]string{
			"shares-paid":     "Paid $0.37 1 sale", // the one share transferred, not the two cancelled
			"shares-pending":  "Pending $0.00 retried until Whop pays",
			"shares-withheld": "Kept back for refunds $1.49 refunded before the transfer; 2 shares cancelled",
			"shares-clawback": "Refunded against shares $0.00 0 refunded sales",
		} {
			if got := p.text(id); got != want {
				t.Errorf("%s: %s = %q, want %q", side.company, id, got, want)
			}
		}
		for pay, want := range map[string][]string{
			fullPay: {side.counterparty, "$0.00 of $0.62", "Cancelled refunded in full before the transfer; nothing sent", "$0.62 kept back (refund $4.99)"},
			lostPay: {side.counterparty, "$0.00 of $0.62", "Cancelled refunded in full before the transfer; nothing sent", "$0.62 kept back (refund $4.99)"},
			partPay: {side.counterparty, "$0.37 of $0.62", "Paid " + tr.ID, "$0.25 kept back (refund $2.00)"},
		} {
			row := p.cells("share-" + pay)
			if len(row) != 5 || strings.Join(row[1:], "|") != strings.Join(want, "|") {
				t.Errorf("%s: row of %s = %q, want %q", side.company, pay, row, want)
			}
		}
	}
	_, body := a.get("/dashboard/"+owner.ID+"?payment="+fullPay, a.env.Seed.OwnerAdmin.ID)
	if got, want := parsePage(t, body).text("payment-revenue_share"),
		"$0.62 to "+creator.ID+", cancelled: refunded in full before the transfer, nothing sent"; got != want {
		t.Errorf("look-up: revenue share = %q, want %q", got, want)
	}
}
