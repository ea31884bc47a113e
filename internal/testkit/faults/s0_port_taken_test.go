//go:build faults

package faults

import (
	"strconv"
	"testing"
	"time"
)

// TestAReplicaWhosePortIsTakenMoves is scenario 0, the suite's own footing:
// something listens on replica A's port before A starts (as another test
// process that picked the same port would, and which, taking connections
// and never answering, would also stall a readiness probe). A fails to
// bind, starts again on another port, the balancer follows it, and a storm
// of deliveries reaches both replicas with every credit where it belongs.
func TestAReplicaWhosePortIsTakenMoves(t *testing.T) {
	rep := newReport("scenario 0: replica A's port taken before it binds")
	defer rep.print()
	s := newStack(t, stackConfig{reconcileEvery: 24 * time.Hour, takeFirstPort: true})
	w := s.buy(300)
	plan := w.stormOrder(5)
	s.storm(&plan)
	ds := s.awaitDeliveries(len(plan.order), time.Minute)
	per, lb := s.lb.snapshot()
	b := s.audit()

	rep.add("replica A", "moved %d time(s), now at %s; started %d times", s.a.moves, s.a.url(), s.a.starts)
	rep.add("deliveries", "%d of %d events: %d delivered, %d retries, %d gave up; A %d×2xx, B %d×2xx, %d unreachable",
		len(plan.order), plan.unique, ds.Delivered, ds.Retries, ds.GaveUp, per[0].OK, per[1].OK, lb.Unreachable)
	rep.add("books", "%d paid purchases of %d, %d credits of %d; %d problems",
		b.PaidPurchases, len(w.purchases), b.CreditsBought, w.totalCredits(), len(b.Problems))

	if s.a.moves != 1 || s.a.starts != 2 || s.b.moves != 0 || s.b.starts != 1 {
		t.Errorf("A moved %d times in %d starts, B %d in %d: want A moved once, B never", s.a.moves, s.a.starts, s.b.moves, s.b.starts)
	}
	if s.a.url() == "http://127.0.0.1:"+strconv.Itoa(s.a.firstPort) {
		t.Errorf("A is still at its first port %d", s.a.firstPort)
	}
	if ds.Delivered != len(plan.order) || ds.Retries != 0 || ds.GaveUp != 0 {
		t.Errorf("sender = %+v: every delivery should have been answered 2xx the first time", ds.summary())
	}
	if lb.OK != len(plan.order) || lb.ServerError+lb.Other+lb.Unreachable != 0 || per[0].OK == 0 || per[1].OK == 0 {
		t.Errorf("balancer = %+v %+v: want every delivery 2xx, A (at its new port) and B both serving", per, lb)
	}
	if b.PaidPurchases != int64(len(w.purchases)) || b.CreditsBought != w.totalCredits() || len(b.Problems) != 0 {
		t.Errorf("paid %d purchases for %d credits (%d problems), want %d for %d",
			b.PaidPurchases, b.CreditsBought, len(b.Problems), len(w.purchases), w.totalCredits())
	}
	s.assertWalletCredits(w)
}
