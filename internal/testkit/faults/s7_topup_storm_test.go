//go:build faults

package faults

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// Scenario 7's shape.
const (
	topUpMembers   = 8
	topUpSpends    = 60 // per member, 5 credits each
	topUpThreshold = 50
	topUpGrant     = 100
)

// TestAutoTopUpStormAcrossTwoReplicas is scenario 7: members with auto
// top-up on (below 50 credits, buy the starter package, up to 50 a day)
// spend in a storm across both replicas, four requests at a time each,
// while Whop's API fails half of all calls (the off-session charges and
// the notifications among them). Each crossing of the threshold schedules
// at most one top-up, each top-up is charged exactly once at Whop (one
// payment per top-up, whatever the retries), each paid top-up credits once,
// nothing is left under way once the jobs have retried, and the books
// balance, from the database and from Whop's side.
func TestAutoTopUpStormAcrossTwoReplicas(t *testing.T) {
	rep := newReport("scenario 7: auto top-up storm, Whop failing half the time")
	defer rep.print()
	s := newStack(t, stackConfig{reconcileEvery: 24 * time.Hour})
	seed := s.env.Seed
	exp, creator, admin := seed.Creator.ExperienceID, seed.Creator.ID, seed.Admin.ID

	// Members, each with a card saved through Whop's setup checkout, a
	// rule, notifications on, and 100 granted credits: all while Whop is
	// well.
	var members []string
	for _, m := range seed.Members {
		members = append(members, m.ID)
	}
	for i := len(members); i < topUpMembers; i++ {
		u, err := s.sim.AddMember(fmt.Sprintf("topup%d", i), exp)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, u.ID)
	}
	for i, user := range members {
		r := s.reps[i%len(s.reps)]
		code, out, raw := s.call(r, "POST", "/api/topup/setup", user, map[string]string{"experience_id": exp})
		if code != 200 {
			t.Fatalf("setup for %s: %d %s", user, code, raw)
		}
		res, err := s.sim.SaveCard(whopsim.Setup{CheckoutID: out["id"].(string), UserID: user, Card: whopsim.CardSucceeds})
		if err != nil {
			t.Fatal(err)
		}
		if code, _, raw := s.call(r, "POST", "/api/topup/method", user,
			map[string]string{"experience_id": exp, "setup_intent_id": res.ReceiptID}); code != 200 {
			t.Fatalf("method for %s: %d %s", user, code, raw)
		}
		if code, raw := s.form(r, "/experiences/"+exp+"/autotopup/rule", user, url.Values{
			"threshold": {fmt.Sprint(topUpThreshold)}, "package": {"starter"}, "daily_limit": {"50"}}); code != http.StatusSeeOther {
			t.Fatalf("rule for %s: %d %s", user, code, raw)
		}
		if code, raw := s.form(r, "/experiences/"+exp+"/autotopup/alerts", user, url.Values{
			"credited": {"on"}, "topup_failed": {"on"}}); code != http.StatusSeeOther {
			t.Fatalf("alerts for %s: %d %s", user, code, raw)
		}
		if code, _, raw := s.call(r, "POST", "/api/grants", admin, map[string]any{"company_id": creator, "experience_id": exp,
			"member": user, "credits": topUpGrant, "reason": "starting balance", "idempotency_key": "topup-" + user}); code != 201 {
			t.Fatalf("grant to %s: %d %s", user, code, raw)
		}
	}

	// The storm, with Whop failing half of all API calls.
	s.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 0.5 })
	started := time.Now()
	var ok, short, failed, retried atomic.Int64
	var wg sync.WaitGroup
	for m, user := range members {
		var next atomic.Int64
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < topUpSpends; i = next.Add(1) - 1 {
					key := fmt.Sprintf("storm-%d-%d", m, i)
					for try := 0; ; try++ {
						r := s.reps[(int(i)+g+try)%len(s.reps)]
						code, out, _ := s.call(r, "POST", "/api/spend", user,
							map[string]string{"experience_id": exp, "item": "sticker", "idempotency_key": key})
						errCode := ""
						if e, isErr := out["error"].(map[string]any); isErr {
							errCode, _ = e["code"].(string)
						}
						switch {
						case code == 200:
							ok.Add(1)
						case code == 409 && errCode == "insufficient_credits" && try < 200:
							// The member waits for the top-up and tries again.
							short.Add(1)
							time.Sleep(100 * time.Millisecond)
							continue
						case try < 20:
							// Whop failed the access check: the member retries the same key.
							retried.Add(1)
							continue
						default:
							failed.Add(1)
						}
						break
					}
				}
			}()
		}
	}
	wg.Wait()
	stormTook := time.Since(started)

	// Every top-up reaches its end while Whop still fails half the time:
	// the charge jobs retry with their keys.
	deadline := time.Now().Add(4 * time.Minute)
	for s.count(`SELECT count(*) FROM topups WHERE status IN ('scheduled', 'charging')`) > 0 ||
		s.count(`SELECT count(*) FROM river_job WHERE kind IN ('topup_charge', 'notify') AND state NOT IN ('completed', 'cancelled', 'discarded')`) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("top-ups or notifications still under way after 4 min: %d top-ups, %d jobs",
				s.count(`SELECT count(*) FROM topups WHERE status IN ('scheduled', 'charging')`),
				s.count(`SELECT count(*) FROM river_job WHERE kind IN ('topup_charge', 'notify') AND state NOT IN ('completed', 'cancelled', 'discarded')`))
		}
		time.Sleep(250 * time.Millisecond)
	}
	settled := time.Since(started)
	s.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 0 })
	ds := s.awaitDeliveries(len(s.sim.Events()), 2*time.Minute)
	b := s.audit()

	topups := s.count(`SELECT count(*) FROM topups`)
	paid := s.count(`SELECT count(*) FROM topups WHERE status = 'paid'`)
	crossings := s.count(`SELECT count(*) FROM ledger_entries e
		WHERE e.kind = 'spend' AND e.balance_after < $1 AND e.balance_after - e.amount >= $1`, topUpThreshold)
	// Whop's side: payments per top-up, paid or not.
	perTopUp := map[string]int{}
	for p, err := range s.whop.ListPayments(s.ctx, whop.ListPaymentsParams{CompanyID: seed.Owner.ID, PageSize: 100}) {
		if err != nil {
			t.Fatalf("list Whop's payments: %v", err)
		}
		if id := p.Metadata[billing.MetaTopUpID]; id != "" {
			perTopUp[id]++
		}
	}
	twice := 0
	for _, n := range perTopUp {
		if n != 1 {
			twice++
		}
	}
	var attempts int64
	s.pool.QueryRow(s.ctx, `SELECT COALESCE(sum(attempt), 0) FROM river_job WHERE kind = 'topup_charge'`).Scan(&attempts)
	sent := s.count(`SELECT count(*) FROM notifications WHERE status = 'sent'`)
	notifications := s.count(`SELECT count(*) FROM notifications`)
	atWhop := len(s.sim.Notifications(""))

	rep.add("members", "%d with a saved card, a rule (below %d, starter, 50 a day) and %d granted credits each",
		len(members), topUpThreshold, topUpGrant)
	rep.add("spends", "%d debited, %d refusals for credits (retried after waiting for the top-up), %d retried after Whop failed, %d failed, in %.1f s",
		ok.Load(), short.Load(), retried.Load(), failed.Load(), stormTook.Seconds())
	rep.add("top-ups", "%d crossings, %d top-ups scheduled, %d paid, %d charge attempts (Whop failing half), all settled %.1f s after the storm began",
		crossings, topups, paid, attempts, settled.Seconds())
	rep.add("at Whop", "%d top-ups charged, %d of them more than once; %d notifications recorded here, %d sent, %d at Whop",
		len(perTopUp), twice, notifications, sent, atWhop)
	rep.add("sender", "%d attempts, %d delivered, %d retries, %d gave up", ds.Attempts, ds.Delivered, ds.Retries, ds.GaveUp)
	rep.add("books", "%d wallets, balances %d = bought %d + granted %d − spent %d; %d problems",
		b.Wallets, b.Balances, b.CreditsBought, int64(len(members))*topUpGrant, b.CreditsSpent, len(b.Problems))

	if failed.Load() != 0 || ok.Load() != int64(len(members)*topUpSpends) {
		t.Errorf("spends: %d failed for good, %d debited, want all %d: each waits for its top-up", failed.Load(), ok.Load(), len(members)*topUpSpends)
	}
	if topups == 0 || topups > crossings {
		t.Errorf("%d top-ups for %d crossings: want at least one and at most one per crossing", topups, crossings)
	}
	if n := s.count(`SELECT count(*) FROM topups t JOIN ledger_entries e ON e.id = t.crossing_entry_id
		WHERE NOT (e.kind = 'spend' AND e.wallet_id = t.wallet_id AND e.balance_after < t.threshold
		           AND e.balance_after - e.amount >= t.threshold)`); n != 0 {
		t.Errorf("%d top-ups whose spend did not cross their threshold", n)
	}
	if paid != topups {
		t.Errorf("%d of %d top-ups paid: with a card that succeeds every top-up must be paid in the end", paid, topups)
	}
	if int64(len(perTopUp)) != topups || twice != 0 {
		t.Errorf("Whop holds payments for %d top-ups (%d more than once), want one each for %d", len(perTopUp), twice, topups)
	}
	if n := s.count(`SELECT count(*) FROM topups t JOIN purchases p ON p.id = t.purchase_id
		WHERE p.status <> 'paid' OR p.payment_id <> t.payment_id
		   OR (SELECT count(*) FROM ledger_entries e WHERE e.idempotency_key = 'purchase:' || p.id) <> 1`); n != 0 {
		t.Errorf("%d top-ups whose purchase is not paid once by their payment", n)
	}
	if b.CreditsBought != paid*100 {
		t.Errorf("credits bought %d, want %d top-ups × 100", b.CreditsBought, paid)
	}
	if b.Balances != b.CreditsBought+int64(len(members))*topUpGrant-b.CreditsSpent || b.CreditsSpent != 5*ok.Load() {
		t.Errorf("balances %d, bought %d, spent %d (%d debits answered)", b.Balances, b.CreditsBought, b.CreditsSpent, ok.Load())
	}
	if sent != notifications || int64(atWhop) != sent {
		t.Errorf("notifications: %d recorded, %d sent, %d at Whop: each must go out exactly once", notifications, sent, atWhop)
	}
}

// form posts an HTML form to a replica as user and returns the status,
// without following a redirect.
func (s *stack) form(r *replica, path, user string, v url.Values) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequestWithContext(s.ctx, http.MethodPost, r.url()+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(whop.HeaderUserToken, s.token(user))
	c := *s.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	n, _ := res.Body.Read(buf)
	b.Write(buf[:n])
	return res.StatusCode, b.String()
}
