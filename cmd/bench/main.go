// Command bench is `make bench`: it starts Postgres (a cluster of its own),
// the Whop sandbox and the app as in production, drives each hot path from
// this separate process over loopback, and measures beside it, in the same
// run, the path's floor: the same work done with nothing around it.
//
//   - webhook ingest: the rows one delivery writes (purchase, wallet,
//     ledger entry, revenue share, its River job, the delivery's record),
//     written by one SQL statement at the same durability;
//   - webhook repeats: a no-op HTTP POST of the same signed request;
//   - the member's page: a bare chi handler running the same queries;
//   - a spend on one hot wallet: its three writes in one raw SQL statement.
//
// App and floor run in alternating rounds (app first, then floor first, …),
// so whatever else the machine does weighs on both; the ratio of their
// throughputs is what the targets are about, and the table says how quiet
// the machine was (load average, and the CPU other processes took). An
// open-loop run of the page at fixed offered rates, the app's peak memory
// and its start-up time complete the table, which is also written as JSON,
// with an SVG plot of page latency against concurrency, under
// bench/results/; with -profile, a CPU profile of the app per path too.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	duration time.Duration // each side's measured time on each path
	rounds   int           // alternating rounds each path's time is split into
	out      string
	profile  bool // capture the app's CPU profile of each path
	paths    map[string]bool
	log      io.Writer
}

// allPaths are what -paths may name.
var allPaths = []string{"ingest", "repeats", "page", "spend", "startup"}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "refserver" {
		return refServer(ctx, args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{log: stderr}
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "each side's measured time on each path")
	fs.IntVar(&o.rounds, "rounds", 4, "alternating rounds of app and floor each path's time is split into")
	fs.StringVar(&o.out, "out", "bench/results", "where the JSON, the SVG and the profiles go")
	fs.BoolVar(&o.profile, "profile", false, "save the app's CPU profile of each path under -out (costs the app about 1 %)")
	paths := fs.String("paths", strings.Join(allPaths, ","), "the paths to measure (a full run, as make bench makes, measures all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.paths = map[string]bool{}
	for _, p := range strings.Split(*paths, ",") {
		if !slices.Contains(allPaths, p) {
			return fmt.Errorf("-paths: %q is none of %s", p, strings.Join(allPaths, ", "))
		}
		o.paths[p] = true
	}
	if o.rounds < 1 || o.duration < time.Second {
		return fmt.Errorf("-rounds must be at least 1 and -duration at least 1s")
	}
	return benchmark(ctx, o, stdout)
}

func logf(o options, format string, args ...any) { fmt.Fprintf(o.log, format+"\n", args...) }
