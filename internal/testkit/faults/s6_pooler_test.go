//go:build faults

package faults

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/localpg"
)

// Scenario 6's topology: a primary that allows fewer connections than the
// replicas' pools add up to (4 × 20), PgBouncer holding at most
// poolerSize of them, and a streaming standby for the reports.
const (
	manyReplicas      = 4
	poolerSize        = 10
	primaryMaxConns   = 50
	directName        = "creditkit-direct" // the replicas' migration connections
	dashboardInterval = 100 * time.Millisecond
)

// TestManyReplicasThroughThePooler is scenario 6: the storm of scenario 1
// across four replicas whose DATABASE_URL is PgBouncer in transaction
// mode, with the reports on a streaming standby that the test made with
// pg_basebackup, and an admin reloading the creator's dashboard all along.
// Half-way through the storm the standby is killed. Postgres must never
// see more of the app's connections than the pooler's size; every
// dashboard load must be answered, from the standby and then, once it is
// gone, from the primary with the complete figures; and the books balance.
func TestManyReplicasThroughThePooler(t *testing.T) {
	rep := newReport("scenario 6: four replicas through PgBouncer, reports on a streaming standby killed mid-storm")
	defer rep.print()
	tp := newPooledTopology(t)
	s := newStack(t, stackConfig{reconcileEvery: 24 * time.Hour, replicas: manyReplicas,
		appURL: tp.pooler.URL(tp.db), auditURL: tp.primary.URL(tp.db),
		env: map[string]string{
			"DATABASE_POOLER":      "transaction",
			"DATABASE_URL_DIRECT":  tp.primary.URL(tp.db) + "&application_name=" + directName,
			"DATABASE_REPLICA_URL": tp.standby.URL(tp.db) + "&connect_timeout=2",
		}})
	rep.add("topology", "%d replicas × pools of 20 → PgBouncer %s (transaction mode, pool %d) → a primary with max_connections=%d; reports on a pg_basebackup standby",
		manyReplicas, tp.bouncerVersion, poolerSize, primaryMaxConns)
	conns := s.sampleConnections(tp, 50*time.Millisecond)
	w := s.buy(stormPayments)
	rep.add("purchases", "%d charged round the %d replicas, %d credits, in %.1f s", len(w.purchases), manyReplicas,
		w.totalCredits(), time.Since(rep.start).Seconds())

	seed := s.env.Seed
	reader := s.readDashboards(seed.Admin.ID, seed.Creator.ID)
	plan := w.stormOrder(6)
	tr := s.startTraffic(w, 500, 10)
	s.storm(&plan)

	// Half-way, the standby dies: every report must find the primary.
	s.awaitAnswered(len(plan.order) / 2)
	_, atKillLB := s.lb.snapshot()
	atKill := s.reportingTotals()
	reader.killed.Store(true)
	if err := tp.standby.Crash(); err != nil {
		t.Fatalf("kill the standby: %v", err)
	}
	killedAt := time.Now()

	ds := s.awaitDeliveries(len(plan.order), 3*time.Minute)
	members := tr.finish(false)
	// A few more loads after the storm, so every replica meets the dead
	// standby, then each replica's own JSON view against the books.
	time.Sleep(max(0, 3*time.Second-time.Since(killedAt)))
	reader.finish()
	conns.finish()
	b := s.audit()
	var sales, gross int64
	if err := s.pool.QueryRow(s.ctx, `SELECT count(*), COALESCE(sum(paid_amount), 0)::bigint FROM purchases
		WHERE status = 'paid' AND company_id = $1`, seed.Creator.ID).Scan(&sales, &gross); err != nil {
		t.Fatal(err)
	}
	views := s.dashboardViews(seed.Admin.ID, seed.Creator.ID)
	end := s.reportingTotals()

	rep.add("replicas", "%d, every one through the pooler; deliveries answered 2xx by A/B/C/D: %s", manyReplicas, perReplica(s))
	rep.add("pooler connections to Postgres", "max %d (pg_stat_activity on the primary, sampled every 50 ms, %d samples; PgBouncer's SHOW POOLS max %d) for a pool of %d; the replicas' direct connections (DATABASE_URL_DIRECT, migrations at start) max %d during the run",
		conns.maxPooled.Load(), conns.samples.Load(), conns.maxBouncer.Load(), poolerSize, conns.maxDirect.Load())
	rep.add("deliveries", "%d deliveries of %d events (%d duplicates, seed %d): %d attempts, %d delivered, %d retries, %d gave up",
		len(plan.order), plan.unique, plan.dups, plan.seed, ds.Attempts, ds.Delivered, ds.Retries, ds.GaveUp)
	rep.add("members", "%d spends, %d replays, %d refused for credits, %d conflicts, %d failed; %d confirms (%d failed)",
		members.SpendOK, members.SpendReplayed, members.SpendShort, members.SpendConflict, members.SpendFailed,
		members.ConfirmOK, members.ConfirmFailed)
	rep.add("credits", "expected %d, found %d in purchase entries; %d paid purchases of %d",
		w.totalCredits(), b.CreditsBought, b.PaidPurchases, len(w.purchases))
	rep.add("dashboard reads", "served by the replica %d, by the primary %d (all %d fallbacks); %d page loads, %d answered 200, lag at the kill ≤ %.2f s",
		end.replica, end.primary, end.fallbacks, reader.loads.Load(), reader.ok.Load(), atKill.maxLag)
	rep.add("replica killed", "after %d answers (%d reports read on the standby by then): %d page loads after, %d answered 200; all %d replicas' reads fell back to the primary (replica_up=0 on %d), each showing %d sales, %s",
		atKillLB.OK, atKill.replica, reader.afterKill.Load(), reader.afterKillOK.Load(), manyReplicas, end.down,
		sales, dollars(gross))
	rep.add("books", "%d wallets, balances %d = bought %d − spent %d; %d problems", b.Wallets, b.Balances, b.CreditsBought,
		b.CreditsSpent, len(b.Problems))

	if n := conns.maxPooled.Load(); n < 1 || n > poolerSize {
		t.Errorf("Postgres saw up to %d of the app's connections through the pooler, want 1 to %d", n, poolerSize)
	}
	if n := conns.maxBouncer.Load(); n > poolerSize {
		t.Errorf("PgBouncer held up to %d server connections, want at most %d", n, poolerSize)
	}
	if ds.Deliveries != len(plan.order) || ds.Delivered != len(plan.order) || ds.GaveUp != 0 {
		t.Errorf("sender = %+v: every delivery should end delivered", ds.summary())
	}
	if b.PaidPurchases != int64(len(w.purchases)) || b.CreditsBought != w.totalCredits() {
		t.Errorf("paid %d purchases for %d credits, want %d for %d", b.PaidPurchases, b.CreditsBought, len(w.purchases), w.totalCredits())
	}
	s.assertWalletCredits(w)
	if members.SpendConflict+members.SpendFailed+members.ConfirmFailed != 0 || b.Spends != members.SpendOK {
		t.Errorf("members = %+v, %d spends recorded: behind a pooler no request may fail", members, b.Spends)
	}
	if b.Reconciled != 0 {
		t.Errorf("the reconciler credited %d: the webhooks and confirms alone must be exact", b.Reconciled)
	}
	if reader.ok.Load() != reader.loads.Load() || reader.afterKill.Load() < manyReplicas || reader.afterKillOK.Load() != reader.afterKill.Load() {
		t.Errorf("dashboard loads: %d of %d answered 200, %d of %d after the kill", reader.ok.Load(), reader.loads.Load(),
			reader.afterKillOK.Load(), reader.afterKill.Load())
	}
	if atKill.replica == 0 || end.primary == 0 || end.fallbacks != end.primary || end.down != manyReplicas {
		t.Errorf("reporting reads: %+v at the kill, %+v at the end; want the standby used, then the primary by every replica", atKill, end)
	}
	for i, v := range views {
		if v.servedBy != "primary" || v.sales != sales || v.gross != gross {
			t.Errorf("%s's dashboard after the kill: %+v, want the primary's %d sales, %d", replicaNames[i], v, sales, gross)
		}
	}
}

// pooledTopology is scenario 6's database side, all its own: a primary,
// a standby made from it, and PgBouncer in front of the primary.
type pooledTopology struct {
	primary, standby *localpg.Cluster
	pooler           *localpg.PgBouncer
	bouncerVersion   string
	db               string
}

func newPooledTopology(t *testing.T) *pooledTopology {
	t.Helper()
	bin, err := localpg.PgBouncerBinary()
	localpg.RequireTool(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tp := &pooledTopology{db: "creditkit"}
	out, _ := exec.Command(bin, "--version").Output()
	tp.bouncerVersion = strings.TrimPrefix(strings.SplitN(string(out), "\n", 2)[0], "PgBouncer ")

	tp.primary, err = localpg.Open(filepath.Join(suite.dir, "s6-primary"), freeport.For(t))
	if err != nil {
		t.Fatal(err)
	}
	tp.primary.MaxConnections = primaryMaxConns
	if err := tp.primary.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.primary.Stop() })
	if err := tp.primary.CreateDatabase(ctx, tp.db); err != nil {
		t.Fatal(err)
	}
	tp.standby, err = tp.primary.Standby(ctx, filepath.Join(suite.dir, "s6-standby"), freeport.For(t))
	localpg.RequireTool(t, skipOnly(err, localpg.ErrNoBaseBackup))
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.standby.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.standby.Stop() })
	tp.pooler, err = localpg.StartPgBouncer(ctx, filepath.Join(suite.dir, "s6-pgbouncer"), localpg.PgBouncerConfig{
		Port: freeport.For(t), Upstream: tp.primary.URL(tp.db), PoolSize: poolerSize, MaxClients: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.pooler.Stop() })
	return tp
}

// skipOnly keeps err when it is want (a missing tool), else nil.
func skipOnly(err, want error) error {
	if errors.Is(err, want) {
		return err
	}
	return nil
}

// perReplica is how many deliveries each replica answered 2xx.
func perReplica(s *stack) string {
	per, _ := s.lb.snapshot()
	parts := make([]string, len(per))
	for i, c := range per {
		parts[i] = strconv.Itoa(c.OK)
	}
	return strings.Join(parts, "/")
}

// dollars formats cents for the report.
func dollars(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }
