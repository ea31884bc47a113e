package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// benchmark runs every measured path and writes the report.
func benchmark(ctx context.Context, o options, stdout, stderr io.Writer) error {
	s, err := startStack(ctx, stderr)
	if s != nil {
		defer s.close()
	}
	if err != nil {
		return err
	}
	seed := s.sim.Seed()
	exp := seed.Creator.ExperienceID
	store := ledger.NewStore(s.pool)
	client := whop.New(seed.App.APIKey, whop.WithBaseURL(s.simURL+"/api/v1"))
	svc := billing.New(client, store, billing.Config{CompanyID: seed.Owner.ID, Currency: money.USD,
		Packages: []billing.Package{{ID: "starter", Credits: 100, Price: 499}},
		Items:    []billing.Item{{ID: "sticker", Title: "Sticker pack", Cost: 5}}})
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	rep := &report{Started: time.Now().UTC(), Machine: machine()}

	// Members: 64 distinct users for the page, plus the spenders.
	users, err := addMembers(s, exp, 66)
	if err != nil {
		return err
	}
	pageUsers, appSpender, refSpender := users[:64], users[64], users[65]

	fmt.Fprintln(stderr, "webhook ingest: preparing deliveries")
	appDeliveries, err := pendingPurchases(ctx, s.pool, "app", o.webhooks, pageUsers, exp, seed.Owner.ID, seed.App.WebhookSecret)
	if err != nil {
		return err
	}
	refDeliveries, err := pendingPurchases(ctx, s.pool, "ref", o.webhooks, pageUsers, exp, seed.Owner.ID, seed.App.WebhookSecret)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "webhook ingest: measuring")
	app := closedLoop(ctx, 32, time.Minute, len(appDeliveries), func(ctx context.Context, _, i int) error {
		return postDelivery(ctx, httpc, s.appURL(), seed.App.WebhookSecret, appDeliveries[i], `"outcome":"credited 100`)
	})
	ref := closedLoop(ctx, 32, time.Minute, len(refDeliveries), func(ctx context.Context, _, i int) error {
		return ingestReference(ctx, store, svc, refDeliveries[i])
	})
	rep.add(row{Path: "webhook ingest", Load: "unique signed payment.succeeded, 32 concurrent", App: app, Ref: ref,
		RefName: "the same transactions via pgx", Target: 0.8, NoErrors: true})

	fmt.Fprintln(stderr, "webhook duplicates: measuring")
	// Repeats cycle through the deliveries for the whole duration.
	app = profiled(ctx, s, o, "webhook duplicates", int(o.duration/time.Second), func() result {
		return closedLoop(ctx, 32, o.duration, 0, func(ctx context.Context, _, i int) error {
			return postDelivery(ctx, httpc, s.appURL(), seed.App.WebhookSecret, appDeliveries[i%len(appDeliveries)], `"outcome":"duplicate"`)
		})
	})
	ref = closedLoop(ctx, 32, o.duration, 0, func(ctx context.Context, _, _ int) error {
		var one int
		return s.pool.QueryRow(ctx, "SELECT 1").Scan(&one)
	})
	rep.add(row{Path: "webhook duplicates", Load: "the same deliveries again, 32 concurrent", App: app, Ref: ref,
		RefName: "SELECT 1 through the pool", Target: 0.5, NoErrors: true})

	// Context, not a target: what one HTTP POST of the same body costs with
	// nothing behind it, in a process of its own. No webhook path can beat it.
	refAddr, stopRef, err := startRefServer(ctx, s.dbURL)
	if err != nil {
		return err
	}
	rep.HTTPFloor = closedLoop(ctx, 32, o.duration, 0, func(ctx context.Context, _, i int) error {
		d := appDeliveries[i%len(appDeliveries)]
		return postOK(ctx, httpc, "http://"+refAddr+"/noop", d.body)
	})
	stopRef()

	if err := benchPage(ctx, s, o, rep, httpc, exp, pageUsers, stderr); err != nil {
		return err
	}
	if err := benchSpend(ctx, s, o, rep, httpc, store, exp, appSpender, refSpender, stderr); err != nil {
		return err
	}
	if err := benchStartup(ctx, s, rep, stderr); err != nil {
		return err
	}
	return rep.write(o.out, stdout)
}

func addMembers(s *stack, exp string, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		u, err := s.sim.AddMember(fmt.Sprintf("bench%03d", i), exp)
		if err != nil {
			return nil, err
		}
		out[i] = u.ID
	}
	return out, nil
}

// benchStartup restarts the app five times on the migrated database and
// takes the median time from exec to a 200 from /readyz.
func benchStartup(ctx context.Context, s *stack, rep *report, log io.Writer) error {
	fmt.Fprintln(log, "start-up: measuring")
	var times []time.Duration
	for i := 0; i < 5; i++ {
		s.stopApp()
		d, err := s.startApp(ctx)
		if err != nil {
			return err
		}
		times = append(times, d)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	rep.Startup = startup{MedianMS: ms(times[2]), MinMS: ms(times[0]), MaxMS: ms(times[4]), TargetMS: 300}
	return nil
}

// startRefServer runs `bench refserver` as its own process.
func startRefServer(ctx context.Context, dbURL string) (addr string, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, self, "refserver", "-db", dbURL)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return "", nil, fmt.Errorf("refserver: %w", err)
	}
	return strings.TrimSpace(line), func() { cmd.Process.Kill(); cmd.Wait() }, nil
}
