//go:build faults

package faults

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// wallet is one member's credits in one experience.
type wallet struct{ user, experience string }

// purchase is one credit package bought by the workload.
type purchase struct {
	ID, PaymentID, EventID string
	Wallet                 wallet
	Credits                int64
	Via                    int // index of the replica that made the charge
}

// workload is every purchase a scenario made, paid at the sandbox with its
// payment.succeeded event recorded but not yet delivered.
type workload struct {
	purchases []purchase
	hot       wallet
	wallets   []wallet
}

// credits returns the credits each wallet bought.
func (w *workload) credits() map[wallet]int64 {
	out := map[wallet]int64{}
	for _, p := range w.purchases {
		out[p.Wallet] += p.Credits
	}
	return out
}

func (w *workload) totalCredits() (n int64) {
	for _, p := range w.purchases {
		n += p.Credits
	}
	return n
}

// extraMembers join the creator's experience beside the seed's three, so the
// storm spreads over a dozen wallets.
const extraMembers = 6

// buy makes n purchases through POST /api/charge, round the replicas, on
// every member's wallet (the seed's members in both experiences, the extra
// ones in the creator's), with two in five on one hot wallet; then pays each at the sandbox while webhooks are switched off, so
// the storm can be sent later, all at once.
func (s *stack) buy(n int) *workload {
	s.t.Helper()
	seed := s.env.Seed
	w := &workload{}
	for _, m := range seed.Members {
		for _, exp := range []string{seed.Creator.ExperienceID, seed.Owner.ExperienceID} {
			w.wallets = append(w.wallets, wallet{m.ID, exp})
		}
	}
	s.buys++
	for i := range extraMembers {
		name := fmt.Sprintf("storm%d", i)
		if s.buys > 1 { // a second storm in one scenario gets members of its own
			name = fmt.Sprintf("storm%d_%d", s.buys, i)
		}
		u, err := s.sim.AddMember(name, seed.Creator.ExperienceID)
		if err != nil {
			s.t.Fatal(err)
		}
		w.wallets = append(w.wallets, wallet{u.ID, seed.Creator.ExperienceID})
	}
	w.hot = w.wallets[0]
	w.purchases = make([]purchase, n)
	checkouts := make([][2]string, n)

	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				wl, pkg, credits := w.wallets[i%len(w.wallets)], "starter", int64(100)
				if i%5 < 2 {
					wl = w.hot
				}
				if i%7 == 0 {
					pkg, credits = "pro", 600
				}
				via := i % len(s.replicas())
				code, out, raw := s.call(s.replicas()[via], "POST", "/api/charge", wl.user,
					map[string]string{"experience_id": wl.experience, "package": pkg})
				if code != 200 {
					failed.Store(raw)
					return
				}
				w.purchases[i] = purchase{ID: out["purchase_id"].(string), Wallet: wl, Credits: credits, Via: via}
				checkouts[i] = [2]string{out["id"].(string), out["planId"].(string)}
			}
		}()
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		s.t.Fatalf("charge failed: %v", msg)
	}

	s.sim.SetWebhook("", whopsim.Standard)
	byPayment := map[string]int{}
	for i, p := range w.purchases {
		res, err := s.sim.Pay(whopsim.Purchase{CheckoutID: checkouts[i][0], PlanID: checkouts[i][1], UserID: p.Wallet.user})
		if err != nil {
			s.t.Fatalf("pay: %v", err)
		}
		w.purchases[i].PaymentID = res.ReceiptID
		byPayment[res.ReceiptID] = i
	}
	for _, ev := range s.sim.Events() {
		if ev.Type != "payment.succeeded" {
			continue
		}
		var body struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(ev.Body, &body); err != nil {
			s.t.Fatal(err)
		}
		if i, ok := byPayment[body.Data.ID]; ok {
			w.purchases[i].EventID = ev.ID
		}
	}
	for _, p := range w.purchases {
		if p.EventID == "" {
			s.t.Fatalf("no payment.succeeded event for %s", p.PaymentID)
		}
	}
	s.sim.SetWebhook(s.hook, whopsim.Standard)
	return w
}

// stormPlan is the order of a storm's deliveries.
type stormPlan struct {
	order    []string // event ids, duplicates included
	unique   int
	dups     int // deliveries of an event already in the storm
	adjacent int // duplicates sent right after their original: they race on the two replicas
	seed     uint64
	sentAt   time.Time // when the storm was handed to the sender
}

// stormOrder shuffles every event and duplicates a third of them: half of
// those right after the original (sent concurrently, so the two copies
// meet on different replicas at once), half anywhere else, before or after it.
func (w *workload) stormOrder(seed uint64) stormPlan {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	ids := make([]string, len(w.purchases))
	for i, p := range w.purchases {
		ids[i] = p.EventID
	}
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	plan := stormPlan{unique: len(ids), seed: seed}
	var late []string
	for i, id := range ids {
		plan.order = append(plan.order, id)
		if i%3 != 0 {
			continue
		}
		plan.dups++
		if i%6 == 0 {
			plan.order = append(plan.order, id)
			plan.adjacent++
		} else {
			late = append(late, id)
		}
	}
	for _, id := range late {
		at := 1 + rng.IntN(len(plan.order))
		plan.order = append(plan.order[:at], append([]string{id}, plan.order[at:]...)...)
	}
	return plan
}

// storm hands the whole plan to the sandbox's sender at once.
func (s *stack) storm(plan *stormPlan) {
	s.t.Helper()
	plan.sentAt = time.Now()
	if err := s.sim.Deliver(plan.order, false); err != nil {
		s.t.Fatalf("deliver: %v", err)
	}
}
