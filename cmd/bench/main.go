// Command bench is `make bench`: it starts Postgres (a cluster of its own),
// the Whop sandbox and the app as in production, drives each hot path from
// this separate process over loopback, measures the same work done the
// shortest way in the same run (the reference), and prints throughput,
// latency, errors, the app's peak memory and the ratio to the reference.
// The table is also written as JSON, with an SVG plot of page latency
// against concurrency, under bench/results/.
//
// Comparing with a reference measured in the same run keeps the figures
// meaningful on a noisy machine: the ratio moves far less than the numbers.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	duration time.Duration // each timed load
	webhooks int           // deliveries per ingest run
	out      string
	profile  bool // capture the app's CPU profile during each timed load
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "refserver" {
		return refServer(ctx, args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.duration, "duration", 6*time.Second, "length of each timed load")
	fs.IntVar(&o.webhooks, "webhooks", 6000, "unique deliveries in each webhook ingest run")
	fs.StringVar(&o.out, "out", "bench/results", "where the JSON and SVG go")
	fs.BoolVar(&o.profile, "profile", false, "save the app's CPU profile of each load under -out (costs a few percent)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return benchmark(ctx, o, stdout, stderr)
}
