//go:build faults

package faults

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// trafficCounts is what members did while a storm was on, as they saw it.
type trafficCounts struct {
	SpendOK       int64 // debited now
	SpendReplayed int64 // a retried key answered with its first result
	SpendShort    int64 // 409 insufficient_credits
	SpendConflict int64 // 409 idempotency_conflict: never expected here
	SpendFailed   int64 // no answer or 5xx: the debit may or may not have happened
	ConfirmOK     int64
	ConfirmFailed int64
}

// traffic is members spending and confirming purchases alongside the storm.
type traffic struct {
	stop chan struct{}
	wg   sync.WaitGroup

	spendOK, spendReplayed, spendShort, spendConflict, spendFailed atomic.Int64
	confirmOK, confirmFailed                                       atomic.Int64
}

// startTraffic has members spend up to spends times (four at a time, most
// on the hot wallet, every tenth a retry of an earlier key) and confirm
// every confirmEvery-th purchase on the replica after the one that made
// its charge, as the browser does after inAppPurchase, racing the webhooks.
func (s *stack) startTraffic(w *workload, spends, confirmEvery int) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	var next atomic.Int64
	for range 4 {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			for i := int(next.Add(1) - 1); i < spends; i = int(next.Add(1) - 1) {
				select {
				case <-tr.stop:
					return
				case <-time.After(3 * time.Millisecond):
				}
				wl, key := w.hot, fmt.Sprintf("storm-%d", i)
				if i%5 == 4 {
					wl = w.wallets[i%len(w.wallets)]
				}
				if i%10 == 9 {
					key = fmt.Sprintf("storm-%d", i-1) // a double click: the same key again
					wl = w.hot
					if (i-1)%5 == 4 {
						wl = w.wallets[(i-1)%len(w.wallets)]
					}
				}
				tr.spend(s, s.replicas()[i%len(s.replicas())], wl, key)
			}
		}()
	}
	if confirmEvery > 0 {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			for i := 0; i < len(w.purchases); i += confirmEvery {
				select {
				case <-tr.stop:
					return
				default:
				}
				p := w.purchases[i]
				code, out, _ := s.call(s.replicas()[(p.Via+1)%len(s.replicas())], "POST", "/api/purchases/"+p.ID+"/confirm",
					p.Wallet.user, map[string]string{"receipt_id": p.PaymentID})
				if code == 200 && out["status"] == "paid" {
					tr.confirmOK.Add(1)
				} else {
					tr.confirmFailed.Add(1)
				}
			}
		}()
	}
	return tr
}

func (tr *traffic) spend(s *stack, r *replica, wl wallet, key string) {
	code, out, _ := s.call(r, "POST", "/api/spend", wl.user,
		map[string]string{"experience_id": wl.experience, "item": "sticker", "idempotency_key": key})
	errCode := ""
	if e, ok := out["error"].(map[string]any); ok {
		errCode, _ = e["code"].(string)
	}
	switch {
	case code == 200 && out["replayed"] == true:
		tr.spendReplayed.Add(1)
	case code == 200:
		tr.spendOK.Add(1)
	case code == 409 && errCode == "insufficient_credits":
		tr.spendShort.Add(1)
	case code == 409:
		tr.spendConflict.Add(1)
	default:
		tr.spendFailed.Add(1)
	}
}

// finish waits for the members to be done (or stops them) and returns the
// counts.
func (tr *traffic) finish(cancel bool) trafficCounts {
	if cancel {
		close(tr.stop)
	}
	tr.wg.Wait()
	return trafficCounts{
		SpendOK: tr.spendOK.Load(), SpendReplayed: tr.spendReplayed.Load(), SpendShort: tr.spendShort.Load(),
		SpendConflict: tr.spendConflict.Load(), SpendFailed: tr.spendFailed.Load(),
		ConfirmOK: tr.confirmOK.Load(), ConfirmFailed: tr.confirmFailed.Load(),
	}
}
