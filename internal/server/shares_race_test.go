package server_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// withSlowTransferHook gives the app's client the hook with a timeout long
// enough for a test to hold a transfer at Whop for a while.
func withSlowTransferHook(h *transferHook) appOption {
	h.next = http.DefaultTransport
	return withClient(whop.WithHTTPClient(&http.Client{Transport: h, Timeout: 20 * time.Second}),
		whop.WithRetry(2, 10*time.Millisecond))
}

// TestRefundWhileTheShareTransferIsAtWhop: the revenue-share job has fixed
// the net amount and its transfer is out at Whop, held there. Nothing of
// ours is held meanwhile: the refund's webhook is processed at once (no
// lock to wait for, no session idle in a transaction), and it is recorded
// against a share whose amount was already fixed. The transfer then lands
// with that amount, once.
func TestRefundWhileTheShareTransferIsAtWhop(t *testing.T) {
	hook := &transferHook{}
	a := setup(t, withShare(1000), withSlowTransferHook(hook))
	atWhop, held := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	defer release() // a failed check below must not leave the transfer, and the app's shutdown, held
	hook.on = func(n int, send func() (*http.Response, error)) (*http.Response, error) {
		if n == 1 {
			close(atWhop)
			<-held
		}
		return send()
	}
	_, pay := a.buyIn(a.experience(), a.member(0), "starter")
	drained := make(chan int, 1)
	go func() { drained <- a.drain() }()
	<-atWhop
	// A transaction held across the transfer went idle before the request
	// left, so before this instant.
	sent := a.db.Now(t, a.ctx)

	start := time.Now()
	if err := a.sim.Refund(pay, 0); err != nil {
		t.Fatal(err)
	}
	a.settle()
	took, idle := time.Since(start), a.db.HeldAcross(t, a.ctx, sent)
	sh, _ := a.store.RevenueShareByPayment(a.ctx, pay)
	if sh.Status != ledger.TransferPending || sh.TransferAmount != 49 || sh.Clawback != 49 || sh.Attempts != 0 {
		t.Fatalf("share while its transfer is at Whop and the refund landed: %+v", sh)
	}
	if n := a.count(`SELECT count(*) FROM webhook_deliveries WHERE outcome LIKE '%refund recorded against the revenue share'`); n != 1 || took > 5*time.Second || idle != 0 {
		t.Fatalf("the refund took %v (%d deliveries recorded it), %d sessions idle in transaction: something was held across the Whop call", took, n, idle)
	}
	release()
	if n := <-drained; n != 1 {
		t.Fatalf("drain ran %d jobs, want the share's", n)
	}
	sh, _ = a.store.RevenueShareByPayment(a.ctx, pay)
	w := a.world()
	tr := w.Transfers[sh.TransferID]
	if sh.Status != ledger.TransferPaid || sh.TransferAmount != 49 || sh.Attempts != 1 || sh.Withheld() != 0 ||
		sh.ClawbackAfterTransfer() != 49 || tr.Amount != 49 || tr.IdempotenceKey != sh.TransferKey || len(w.Transfers) != 1 {
		t.Fatalf("after the transfer: share %+v, transfer %+v (%d transfers)", sh, tr, len(w.Transfers))
	}
}

// TestRefundsRacingShareTransfers: a dozen sales in the creator's
// experience, and while their share jobs run (Whop a little slow), refunds
// of all sizes land at random moments: before the decision, during it,
// while the transfer is out, after. Whatever the interleaving, each share
// ends paid or cancelled; a paid one sent, once, exactly the net it fixed
// (the share less what refunds had taken before, never less than what
// came after); a cancelled one sent nothing and was refunded in full.
func TestRefundsRacingShareTransfers(t *testing.T) {
	hook := &transferHook{}
	a := setup(t, withShare(1000), withSlowTransferHook(hook))
	rng := rand.New(rand.NewPCG(16, 16))
	hook.on = func(n int, send func() (*http.Response, error)) (*http.Response, error) {
		time.Sleep(time.Duration(n%4) * 15 * time.Millisecond)
		return send()
	}
	const sales = 12
	type sale struct {
		payment  string
		refund   int64 // 0: none; 499: in full
		delayMS  int
		priceAmt int64
	}
	var all []sale
	for i := range sales {
		_, pay := a.buyIn(a.experience(), a.member(i%3), "starter")
		refund := []int64{0, 100, 250, 499}[i%4]
		all = append(all, sale{payment: pay, refund: refund, delayMS: rng.IntN(120), priceAmt: 499})
	}
	start := a.world()

	drained := make(chan int, 1)
	go func() { drained <- a.drain() }()
	var wg sync.WaitGroup
	for _, s := range all {
		if s.refund == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(s.delayMS) * time.Millisecond)
			amount := s.refund
			if amount == s.priceAmt {
				amount = 0 // in full
			}
			if err := a.sim.Refund(s.payment, amount); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	<-drained
	a.settle()
	a.advanceJobs()
	a.drain()

	w := a.world()
	perKey := map[string]int{}
	for id, tr := range w.Transfers {
		if _, old := start.Transfers[id]; !old {
			perKey[tr.IdempotenceKey]++
		}
	}
	var paid, cancelled, sent, before, after int64
	for _, s := range all {
		sh, err := a.store.RevenueShareByPayment(a.ctx, s.payment)
		if err != nil {
			t.Fatal(err)
		}
		wantClawback := s.refund * 1000 / 10000
		what := fmt.Sprintf("share of %s (refund %d): %+v", s.payment, s.refund, sh)
		if sh.Amount != 49 || sh.Clawback != wantClawback || sh.RefundedAmount != s.refund {
			t.Errorf("%s: want clawback %d for the refund", what, wantClawback)
			continue
		}
		switch sh.Status {
		case ledger.TransferPaid:
			paid++
			tr := w.Transfers[sh.TransferID]
			// The net fixed at the decision: the share less the clawback
			// recorded by then, which is at most what was refunded in all.
			if perKey[sh.TransferKey] != 1 || tr.Amount != sh.TransferAmount || sh.TransferAmount != sh.Amount-sh.Withheld() ||
				sh.Withheld() > sh.Clawback || sh.TransferAmount <= 0 || sh.ClawbackAfterTransfer() < 0 {
				t.Errorf("%s: %d transfers at Whop, the one recorded is %+v", what, perKey[sh.TransferKey], tr)
			}
			sent += tr.Amount
			if sh.Withheld() > 0 {
				before++
			}
			if sh.ClawbackAfterTransfer() > 0 {
				after++
			}
		case ledger.TransferCancelled:
			cancelled++
			if s.refund != s.priceAmt || perKey[sh.TransferKey] != 0 || sh.Attempts != 0 || sh.Withheld() != 49 {
				t.Errorf("%s: cancelled, with %d transfers at Whop", what, perKey[sh.TransferKey])
			}
		default:
			t.Errorf("%s: still %s", what, sh.Status)
		}
	}
	creator := a.env.Seed.Creator
	if got := w.ledgerBalance(creator.LedgerID) - start.ledgerBalance(creator.LedgerID); got != sent {
		t.Errorf("the creator received %d, the shares record %d sent", got, sent)
	}
	t.Logf("%d shares paid (%d cents sent; %d with refunds taken off before the decision, %d with refunds after it), %d cancelled",
		paid, sent, before, after, cancelled)
}
