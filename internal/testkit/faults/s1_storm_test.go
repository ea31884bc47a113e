//go:build faults

package faults

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// stormPayments is how many unique payments each storm carries.
const stormPayments = 3000

// TestStormAcrossTwoReplicas is scenario 1: thousands of signed deliveries,
// a third of them duplicated (half of those at the same moment, so the two
// copies meet on different replicas), in shuffled order, split across two
// replicas while members spend and confirm. Credits must exactly equal the
// unique payments, with no help from the reconciler.
func TestStormAcrossTwoReplicas(t *testing.T) {
	rep := newReport("scenario 1: storm across two replicas")
	defer rep.print()
	s := newStack(t, stackConfig{reconcileEvery: 24 * time.Hour})
	w := s.buy(stormPayments)
	rep.add("purchases", "%d charged through both replicas (%d wallets, %d on the hot wallet), %d credits, in %.1f s",
		len(w.purchases), len(w.wallets), countOn(w, w.hot), w.totalCredits(), time.Since(rep.start).Seconds())

	plan := w.stormOrder(1)
	tr := s.startTraffic(w, 500, 10)
	s.storm(&plan)
	ds := s.awaitDeliveries(len(plan.order), 3*time.Minute)
	took := time.Since(plan.sentAt)
	members := tr.finish(false)
	per, lb := s.lb.snapshot()
	b := s.audit()

	rep.add("injected", "%d deliveries of %d events: %d duplicates (%d sent concurrently with their original), shuffled (seed %d), 16 at a time",
		len(plan.order), plan.unique, plan.dups, plan.adjacent, plan.seed)
	rep.add("sender", "%d attempts, %d delivered, %d retries, %d gave up, in %.1f s (%.0f deliveries/s)",
		ds.Attempts, ds.Delivered, ds.Retries, ds.GaveUp, took.Seconds(), float64(ds.Deliveries)/took.Seconds())
	rep.add("replicas answered", "A %d×2xx %d×5xx, B %d×2xx %d×5xx, %d other, %d unreachable",
		per[0].OK, per[0].ServerError, per[1].OK, per[1].ServerError, lb.Other, lb.Unreachable)
	rep.add("members", "%d spends, %d replays, %d refused for credits, %d conflicts, %d failed; %d confirms (%d failed)",
		members.SpendOK, members.SpendReplayed, members.SpendShort, members.SpendConflict, members.SpendFailed,
		members.ConfirmOK, members.ConfirmFailed)
	rep.add("credits", "expected %d, found %d in purchase entries; %d paid purchases of %d",
		w.totalCredits(), b.CreditsBought, b.PaidPurchases, len(w.purchases))
	rep.add("fulfilled by", "webhook %d, confirm %d, reconciler %d",
		b.WebhookCredits, b.PaidPurchases-b.WebhookCredits-b.Reconciled, b.Reconciled)
	rep.add("books", "%d wallets, balances %d = bought %d − spent %d; %d problems",
		b.Wallets, b.Balances, b.CreditsBought, b.CreditsSpent, len(b.Problems))

	if ds.Deliveries != len(plan.order) || ds.Delivered != len(plan.order) || ds.Retries != 0 || ds.GaveUp != 0 {
		t.Errorf("sender = %+v: every delivery should have been answered 2xx the first time", ds.summary())
	}
	if lb.OK != len(plan.order) || lb.ServerError+lb.Other+lb.Unreachable != 0 || per[0].OK == 0 || per[1].OK == 0 {
		t.Errorf("balancer = %+v %+v: want every delivery 2xx, and both replicas serving", per, lb)
	}
	if n := s.count(`SELECT count(*) FROM webhook_deliveries`); n != int64(plan.unique) {
		t.Errorf("%d deliveries recorded, want one per event: %d", n, plan.unique)
	}
	if b.PaidPurchases != int64(len(w.purchases)) || b.CreditsBought != w.totalCredits() {
		t.Errorf("paid %d purchases for %d credits, want %d for %d", b.PaidPurchases, b.CreditsBought, len(w.purchases), w.totalCredits())
	}
	s.assertWalletCredits(w)
	if members.SpendConflict+members.SpendFailed+members.ConfirmFailed != 0 || members.SpendOK == 0 {
		t.Errorf("members = %+v: with no fault injected, no request may fail", members)
	}
	if b.Spends != members.SpendOK || b.CreditsSpent != 5*members.SpendOK {
		t.Errorf("%d spends (%d credits) recorded, but members were answered %d debits", b.Spends, b.CreditsSpent, members.SpendOK)
	}
	if b.Reconciled != 0 || b.WebhookCredits < int64(len(w.purchases))-members.ConfirmOK {
		t.Errorf("webhooks fulfilled %d and the reconciler %d: the webhooks and confirms alone must be exact", b.WebhookCredits, b.Reconciled)
	}

	s.replicasActAsOne(rep)
}

// countOn counts the purchases made on one wallet.
func countOn(w *workload, wl wallet) (n int) {
	for _, p := range w.purchases {
		if p.Wallet == wl {
			n++
		}
	}
	return n
}

// assertWalletCredits checks each wallet got exactly the credits bought on it.
func (s *stack) assertWalletCredits(w *workload) {
	s.t.Helper()
	got := map[wallet]int64{}
	var wl wallet
	var n int64
	s.eachRow(`SELECT user_id, experience_id, sum(credits)::bigint FROM purchases
		WHERE status = 'paid' GROUP BY 1, 2`, []any{&wl.user, &wl.experience, &n}, func() { got[wl] = n })
	for wl, want := range w.credits() {
		if got[wl] != want {
			s.t.Errorf("wallet %v: %d credits bought and paid, want %d", wl, got[wl], want)
		}
	}
}

var balanceRe = regexp.MustCompile(`data-testid="balance">([^<]*)<`)

// replicasActAsOne: a member's webhook is processed by replica A alone, and
// replica B, asked right after, shows the credits; both replicas report the
// same app-wide metrics, read from the database rather than from memory.
func (s *stack) replicasActAsOne(rep *report) {
	s.t.Helper()
	seed := s.env.Seed
	user, exp := seed.Members[1].ID, seed.Owner.ExperienceID
	before := s.walletBalances()[wallet{user, exp}]
	code, out, raw := s.call(s.a, "POST", "/api/charge", user, map[string]string{"experience_id": exp, "package": "starter"})
	if code != 200 {
		s.t.Fatalf("charge on A: %d %s", code, raw)
	}
	s.sim.SetWebhook(s.a.url()+"/api/webhook", whopsim.Standard)
	defer s.sim.SetWebhook(s.hook, whopsim.Standard)
	seen := len(s.sim.Deliveries())
	if _, err := s.sim.Pay(whopsim.Purchase{CheckoutID: out["id"].(string), PlanID: out["planId"].(string), UserID: user}); err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	attempts, err := s.sim.AwaitAttempts(ctx, seen+1)
	if err != nil {
		s.t.Fatalf("the webhook to A was not sent: %v", err)
	}
	last := attempts[len(attempts)-1]
	if last.URL != s.a.url()+"/api/webhook" || last.Status != 200 {
		s.t.Fatalf("the webhook to A: %+v", last)
	}
	page := s.page(s.b, user, "/experiences/"+exp)
	m := balanceRe.FindStringSubmatch(page)
	want := thousands(before + 100)
	if m == nil || m[1] != want {
		s.t.Errorf("replica B shows balance %v right after A credited it, want %q", m, want)
	}
	metricA, metricB := s.page(s.a, "", "/metrics"), s.page(s.b, "", "/metrics")
	reRuns := regexp.MustCompile(`creditkit_reconciler_runs_total\{result="ok"\} (\d+)`)
	ra, rb := metricValue(reRuns, metricA), metricValue(reRuns, metricB)
	if ra == "" || ra != rb {
		s.t.Errorf("reconciler runs on /metrics: A %q, B %q; want the same app-wide number", ra, rb)
	}
	rep.add("replicas as one", "A processed the webhook, B's page showed %s credits at once; /metrics reconciler runs A=%s B=%s",
		want, ra, rb)
}

// metricValue is the first group re matches in a scrape, or "".
func metricValue(re *regexp.Regexp, scrape string) string {
	if m := re.FindStringSubmatch(scrape); m != nil {
		return m[1]
	}
	return ""
}

// page GETs a page from a replica as user ("" for none) and returns its body.
func (s *stack) page(r *replica, user, path string) string {
	s.t.Helper()
	req, _ := http.NewRequestWithContext(s.ctx, http.MethodGet, r.url()+path, nil)
	if user != "" {
		req.Header.Set(whop.HeaderUserToken, s.token(user))
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s on %s: %v", path, r.name, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		s.t.Fatalf("GET %s on %s: %d %s", path, r.name, res.StatusCode, body)
	}
	return string(body)
}
