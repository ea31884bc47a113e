package server_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestDeactivationLocksTheMemberOutOnEveryReplica runs two replicas; Whop's
// webhook reaches only one. Both had "premium" cached for an hour, so only
// the shared invalidation can lock the lapsed member out of the other.
func TestDeactivationLocksTheMemberOutOnEveryReplica(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	mem := a.upgrade(user)
	a.settle()
	other, _ := a.replica()
	for _, base := range []string{a.url, other} {
		if code := a.lounge(base, user); code != 200 {
			t.Fatalf("premium page on %s before the deactivation: %d", base, code)
		}
	}
	// The answers are cached: with Whop's API down, both replicas still know.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 1 })
	for _, base := range []string{a.url, other} {
		if !a.isPremium(base, user) {
			t.Fatalf("%s did not answer from its cache", base)
		}
	}
	a.sim.SetFaults(whopsim.Faults{})

	if err := a.sim.DeactivateMembership(mem); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if o := a.outcomes("membership.deactivated"); len(o) != 1 || o[0] != "membership "+mem+" canceled" {
		t.Fatalf("deactivation outcome = %q", o)
	}
	for _, base := range []string{other, a.url} {
		if a.isPremium(base, user) {
			t.Errorf("%s still lets the lapsed member in", base)
		}
		res, body := a.getAt(base, "/experiences/"+a.experience()+"/premium", user)
		if res.StatusCode != 403 || !strings.Contains(body, "Premium members only") {
			t.Errorf("premium page on %s after the deactivation: %d", base, res.StatusCode)
		}
		_, body = a.getAt(base, "/experiences/"+a.experience(), user)
		assertContains(t, "the lapsed member's page", body, `data-testid="upgrade"`)
		assertLacks(t, "the lapsed member's page", body, `data-testid="premium-content"`)
	}
	if row := a.membershipRow(mem); row.Status != "canceled" || row.Valid {
		t.Fatalf("membership row = %+v", row)
	}
	// The credits of the period already paid for stay.
	if b := a.balance(user); b != 50 {
		t.Fatalf("balance = %d, want the 50 granted", b)
	}
}

// TestMembershipEventsInAnyOrderLeaveTheRightState delivers a membership's
// events in order, then another's backwards and twice, in both webhook
// generations: the final state and the grants must not depend on it.
func TestMembershipEventsInAnyOrderLeaveTheRightState(t *testing.T) {
	for _, tc := range []struct {
		scheme                whopsim.Scheme
		activated, deactivate string
		// The legacy deliveries carry no updated_at, so each is settled by
		// reading the membership from Whop: by then it has ended.
		lateActivation string
	}{
		{whopsim.Standard, "membership.activated", "membership.deactivated", "canceled (an older state arrived late: kept out)"},
		{whopsim.Legacy, "membership.went_valid", "membership.went_invalid", "canceled (already recorded)"},
	} {
		t.Run(string(tc.scheme), func(t *testing.T) {
			a := setup(t, withSim(func(o *whopsim.Options) { o.WebhookScheme = tc.scheme }))

			// In order, as Whop usually sends them.
			inOrder := a.upgrade(a.member(1))
			a.settle()
			if !a.isPremium(a.url, a.member(1)) || len(a.grantEntries(a.member(1))) != 1 || a.balance(a.member(1)) != 50 {
				t.Fatalf("in order: premium %t, grants %d", a.isPremium(a.url, a.member(1)), len(a.grantEntries(a.member(1))))
			}
			if row := a.membershipRow(inOrder); row.Status != "active" || !row.Valid || row.ExperienceID != a.experience() {
				t.Fatalf("in order: row = %+v", row)
			}

			// Out of order: record the events, deliver them backwards.
			user := a.member(0)
			url, _ := a.sim.Webhook()
			if err := a.sim.SetWebhook("", tc.scheme); err != nil {
				t.Fatal(err)
			}
			mem := a.upgrade(user)
			// Whop's times have millisecond precision: without a gap the two
			// states could share one updated_at, which is the tie case
			// (TestTiedMembershipStatesAreSettledByWhop), not this one.
			time.Sleep(5 * time.Millisecond)
			if err := a.sim.DeactivateMembership(mem); err != nil {
				t.Fatal(err)
			}
			if err := a.sim.SetWebhook(url, tc.scheme); err != nil {
				t.Fatal(err)
			}
			act, deact, pay := lastEvent(t, a, "membership.activated"), lastEvent(t, a, "membership.deactivated"), lastEvent(t, a, "payment.succeeded")
			if err := a.sim.Deliver([]string{deact.ID, act.ID, act.ID, deact.ID, pay.ID}, false); err != nil {
				t.Fatal(err)
			}
			a.settle()

			wm, err := a.whop.GetMembership(a.ctx, mem)
			if err != nil {
				t.Fatal(err)
			}
			row := a.membershipRow(mem)
			if row.Status != "canceled" || row.Valid || !row.LastEventAt.Equal(wm.UpdatedAt) || row.ExperienceID != a.experience() {
				t.Fatalf("final row = %+v, want canceled as of %v", row, wm.UpdatedAt)
			}
			if a.isPremium(a.url, user) || a.lounge(a.url, user) != 403 {
				t.Fatal("the ended membership still grants premium")
			}
			// The period it was valid in earned its credits, once.
			if g := a.grantEntries(user); len(g) != 1 || a.balance(user) != 50 {
				t.Fatalf("grants = %+v, balance %d; want one of 50", g, a.balance(user))
			}
			want := map[string][]string{
				tc.deactivate:       {"membership " + mem + " canceled"},
				tc.activated:        {"membership " + inOrder + " active (already recorded)", "membership " + mem + " " + tc.lateActivation + "; granted 50 credits"},
				"payment.succeeded": {"membership " + inOrder + " active; granted 50 credits", "membership " + mem + " canceled (already recorded)"},
			}
			for typ, w := range want {
				if got := a.outcomes(typ); strings.Join(got, "|") != strings.Join(w, "|") {
					t.Errorf("%s outcomes = %q\nwant %q", typ, got, w)
				}
			}
		})
	}
}

// TestPeriodGrantIsGivenOncePerPeriod renews a membership by delivering
// what Whop would (a later state with the next period), several times.
func TestPeriodGrantIsGivenOncePerPeriod(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	mem := a.upgrade(user)
	a.settle()
	first := a.simMembership(mem)
	p1End, _ := time.Parse(time.RFC3339, first["renewal_period_end"].(string))
	p2End := p1End.AddDate(0, 0, 30)
	renewed := maps.Clone(first)
	renewed["renewal_period_start"] = first["renewal_period_end"]
	renewed["renewal_period_end"] = p2End.Format("2006-01-02T15:04:05.000Z")
	renewed["updated_at"] = time.Now().Add(time.Second).UTC().Format("2006-01-02T15:04:05.000Z")

	for _, id := range []string{"msg_renew_1", "msg_renew_1", "msg_renew_2"} {
		if code, raw := a.deliver(a.url, id, "membership.activated", renewed); code != 200 {
			t.Fatalf("renewal %s: %d %s", id, code, raw)
		}
	}
	// The first period's activation, once more and late.
	if err := a.sim.Redeliver(lastEvent(t, a, "membership.activated").ID, 1); err != nil {
		t.Fatal(err)
	}
	a.settle()

	grants, err := a.store.PremiumGrants(a.ctx, mem)
	entries := a.grantEntries(user)
	if err != nil || len(grants) != 2 || len(entries) != 2 || a.balance(user) != 100 {
		t.Fatalf("grants %+v, entries %+v, balance %d; want two of 50", grants, entries, a.balance(user))
	}
	g := grants[1]
	if !g.PeriodStart.Equal(p1End.Truncate(time.Second)) || !g.PeriodEnd.Equal(p2End) || g.Credits != 50 || g.UserID != user ||
		g.ExperienceID != a.experience() || g.DeliveryID != "msg_renew_1" || g.LedgerEntryID != entries[1].ID {
		t.Fatalf("second period's grant = %+v", g)
	}
	if entries[0].IdempotencyKey == entries[1].IdempotencyKey || entries[1].BalanceAfter != 100 || entries[1].Reference != mem {
		t.Fatalf("grant entries = %+v", entries)
	}
	row := a.membershipRow(mem)
	if !row.PeriodStart.Equal(p1End) || !row.PeriodEnd.Equal(p2End) || row.Status != "active" {
		t.Fatalf("row after the renewal = %+v", row)
	}
	_, body := a.get("/experiences/"+a.experience(), user)
	assertContains(t, "the renewed member's page", body, "Renews "+p2End.Format("Jan 2, 2006"), "This period&#39;s 50 credits")
}

// TestTiedMembershipStatesAreSettledByWhop sends two different states with
// the same time: the app cannot order them, so it asks Whop.
func TestTiedMembershipStatesAreSettledByWhop(t *testing.T) {
	a := setup(t)
	user := a.member(0)
	mem := a.upgrade(user)
	a.settle()
	// Whop ends the membership, but that delivery is lost for now…
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	if err := a.sim.DeactivateMembership(mem); err != nil {
		t.Fatal(err)
	}
	a.settle()
	// …and a delivery claiming "active" at the very time it ended arrives.
	forged := a.simMembership(mem)
	forged["status"], forged["canceled_at"] = "active", nil
	if code, raw := a.deliver(a.url, "msg_tie_1", "membership.activated", forged); code != 200 {
		t.Fatalf("tie: %d %s", code, raw)
	}
	if row := a.membershipRow(mem); row.Status != "active" {
		t.Fatalf("a newer state was not recorded: %+v", row)
	}
	// The real deactivation comes again: same time, another state. Whop decides.
	if err := a.sim.Redeliver(lastEvent(t, a, "membership.deactivated").ID, 1); err != nil {
		t.Fatal(err)
	}
	a.settle()
	if row := a.membershipRow(mem); row.Status != "canceled" || row.Valid {
		t.Fatalf("after the tie: %+v, want canceled as Whop says", row)
	}
	if a.isPremium(a.url, user) {
		t.Fatal("still premium")
	}
	if o := a.outcomes("membership.deactivated"); len(o) != 1 || o[0] != "membership "+mem+" canceled" {
		t.Fatalf("outcomes = %q", o)
	}
}
