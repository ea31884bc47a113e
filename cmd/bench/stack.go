package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/localpg"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

const workDir = ".data/bench"

// stack is everything the benchmark runs: Postgres, the sandbox (served
// from this process; the app reaches it only for access checks, which it
// caches) and the app as its own process.
type stack struct {
	cluster *localpg.Cluster
	dbURL   string
	pool    *pgxpool.Pool
	sim     *whopsim.Sim
	simURL  string
	simSrv  *http.Server
	appBin  string
	appPort int
	pprof   string // the app's profiler address
	app     *exec.Cmd
	appLog  *os.File
	// workers is the app's WORKERS: 0 while loads are measured (the
	// replica measured takes requests; the share transfers the ingest
	// schedules are a worker replica's), unset (the default) for start-up.
	workers  string
	ref      *refProcess
	profiles []string // the CPU profiles written
}

// metered is run with the CPU its rounds took counted on its sample: the
// server's process (server() is its pid, 0 for none), Postgres's and this
// one's.
func (s *stack) metered(server func() int, run func(time.Duration) sample) func(time.Duration) sample {
	read := func() (t [3]int64) {
		if pid := server(); pid != 0 {
			t[0] = processBusy(pid)
		}
		for _, pid := range s.postgresPIDs() {
			t[1] += processBusy(pid)
		}
		t[2] = processBusy(os.Getpid())
		return t
	}
	return func(d time.Duration) sample {
		before := read()
		smp := run(d)
		after := read()
		for i := range smp.ticks {
			smp.ticks[i] = after[i] - before[i]
		}
		return smp
	}
}

func (s *stack) appPID() int { return s.app.Process.Pid }
func (s *stack) refPID() int { return s.ref.pid }
func noServer() int          { return 0 }

// postgresPIDs are the cluster's postmaster and its children.
func (s *stack) postgresPIDs() []int {
	b, err := os.ReadFile(filepath.Join(s.cluster.Dir, "postmaster.pid"))
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return nil
	}
	return append([]int{pm}, childrenOf(pm)...)
}

// meter reads the machine's CPU against the benchmark's own processes.
func (s *stack) meter() cpuReading { return cpuMeter{pids: s.pids}.read() }

// quietSince says how quiet the machine was since r.
func (s *stack) quietSince(r cpuReading) quiet { return cpuMeter{pids: s.pids}.since(r) }

// pids are the benchmark's own processes now: this one (the load and the
// sandbox), the app, the reference server, and Postgres's postmaster with
// its backends.
func (s *stack) pids() []int {
	out := []int{os.Getpid()}
	if s.app != nil && s.app.Process != nil {
		out = append(out, s.app.Process.Pid)
	}
	if s.ref != nil {
		out = append(out, s.ref.pid)
	}
	return append(out, s.postgresPIDs()...)
}

func (s *stack) appURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.appPort) }

func startStack(ctx context.Context, log io.Writer) (*stack, error) {
	s := &stack{}
	fmt.Fprintln(log, "build: creditkit")
	s.appBin = filepath.Join(workDir, "bin", "creditkit")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", s.appBin, "./cmd/creditkit").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build: %v: %s", err, out)
	}
	pgPort, err := freeport.Pick()
	if err != nil {
		return nil, err
	}
	// A fresh cluster each run: no earlier run's rows or caches skew this one.
	os.RemoveAll(filepath.Join(workDir, "postgres"))
	fmt.Fprintf(log, "postgres: a fresh cluster in %s/postgres on port %d\n", workDir, pgPort)
	if s.cluster, err = localpg.Open(filepath.Join(workDir, "postgres"), pgPort); err != nil {
		return nil, err
	}
	if err := s.cluster.Start(ctx); err != nil {
		return nil, err
	}
	if err := s.cluster.CreateDatabase(ctx, "bench"); err != nil {
		return s, err
	}
	s.dbURL = s.cluster.URL("bench")
	if err := migrations.Up(ctx, s.dbURL); err != nil {
		return s, err
	}
	cfg, err := pgxpool.ParseConfig(s.dbURL)
	if err != nil {
		return s, err
	}
	// The references run through a pool the size of the app's (20), so both
	// sides put the same number of transactions on Postgres at once.
	cfg.MaxConns = 20
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return s, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	s.simURL = "http://" + ln.Addr().String()
	if s.sim, err = whopsim.New(whopsim.Options{PublicURL: s.simURL, PaymentDelay: -1}); err != nil {
		return s, err
	}
	s.simSrv = &http.Server{Handler: s.sim.Handler()}
	go s.simSrv.Serve(ln)

	if s.appPort, err = freeport.Pick(); err != nil {
		return s, err
	}
	pprofPort, err := freeport.Pick()
	if err != nil {
		return s, err
	}
	s.pprof = "127.0.0.1:" + strconv.Itoa(pprofPort)
	if s.appLog, err = os.Create(filepath.Join(workDir, "app.log")); err != nil {
		return s, err
	}
	s.workers = "0"
	if _, err := s.startApp(ctx); err != nil {
		return s, err
	}
	return s, nil
}

// appEnv is production mode with the sandbox's credentials.
func (s *stack) appEnv() []string {
	seed := s.sim.Seed()
	return append(os.Environ(),
		"APP_ENV=production",
		"PORT="+strconv.Itoa(s.appPort),
		"DATABASE_URL="+s.dbURL,
		"WHOP_API_KEY="+seed.App.APIKey,
		"WHOP_APP_ID="+seed.App.ID,
		"WHOP_COMPANY_ID="+seed.Owner.ID,
		"WHOP_WEBHOOK_SECRET="+seed.App.WebhookSecret,
		"WHOP_BASE_URL="+s.simURL+"/api/v1",
		"WHOP_USER_TOKEN_JWKS_URL="+s.simURL+"/.well-known/jwks.json",
		"RECONCILE_INTERVAL=1h",
		"PPROF_ADDR="+s.pprof,
		// A creator's sales share 10 % with them (the ingest's deliveries
		// are such sales), and premium is offered (the member's page asks
		// whether its member has it).
		"REVENUE_SHARE_PERCENT=10",
		"PREMIUM_PRODUCT_ID="+seed.PremiumProductID,
		"PREMIUM_PLAN_ID="+seed.PremiumPlanID,
		"WORKERS="+s.workers,
	)
}

// startApp starts `creditkit serve` and returns how long it took to answer
// /readyz with 200: process start, migrations checked, pool up, listening.
func (s *stack) startApp(ctx context.Context) (time.Duration, error) {
	s.app = exec.Command(s.appBin, "serve")
	s.app.Env = s.appEnv()
	s.app.Stdout, s.app.Stderr = s.appLog, s.appLog
	start := time.Now()
	if err := s.app.Start(); err != nil {
		return 0, err
	}
	client := &http.Client{Timeout: time.Second}
	for time.Since(start) < 30*time.Second {
		res, err := client.Get(s.appURL() + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("the app was not ready within 30 s; see %s", s.appLog.Name())
}

func (s *stack) stopApp() {
	if s.app == nil || s.app.Process == nil {
		return
	}
	s.app.Process.Signal(syscall.SIGTERM)
	s.app.Wait()
	s.app = nil
}

func (s *stack) close() {
	s.stopApp()
	if s.ref != nil {
		s.ref.stop()
	}
	if s.simSrv != nil {
		s.simSrv.Close()
	}
	if s.sim != nil {
		s.sim.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	if s.cluster != nil {
		s.cluster.Stop()
	}
	if s.appLog != nil {
		s.appLog.Close()
	}
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(pid int) (cur, peak int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = n
		case "VmHWM:":
			peak = n
		}
	}
	return cur, peak
}
