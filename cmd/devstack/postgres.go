package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/creditkit/creditkit/internal/localpg"
)

// Where `make dev` keeps its own cluster when DATABASE_URL does not answer.
// The port is off the default so it never collides with a system Postgres.
const (
	devClusterDir  = ".data/postgres"
	devClusterPort = 54329
	devDatabase    = "creditkit"
)

// findPostgres returns a database URL that answers: DATABASE_URL when set and
// reachable (creating its database if only that is missing), else a
// project-local cluster it starts. stop is non-nil when it started one.
func findPostgres(ctx context.Context, databaseURL string, log io.Writer) (url string, stop func() error, err error) {
	if databaseURL != "" {
		if err := localpg.EnsureDatabase(ctx, databaseURL); err == nil {
			if err := localpg.Answers(ctx, databaseURL, 3*time.Second); err == nil {
				fmt.Fprintln(log, "postgres: using DATABASE_URL")
				return databaseURL, nil, nil
			}
		}
		fmt.Fprintln(log, "postgres: DATABASE_URL does not answer; starting a project-local cluster instead")
	}
	c, err := localpg.Open(devClusterDir, devClusterPort)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(log, "postgres: starting a project-local cluster in %s on port %d\n", devClusterDir, devClusterPort)
	if err := c.Start(ctx); err != nil {
		return "", nil, err
	}
	if err := c.CreateDatabase(ctx, devDatabase); err != nil {
		c.Stop()
		return "", nil, err
	}
	return c.URL(devDatabase), c.Stop, nil
}

// postgresCmd makes sure a cluster runs in dir and prints its admin URL; it
// leaves the cluster running. .ci/run uses it when the machine's own
// Postgres is unusable.
func postgresCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("postgres", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".data/ci-postgres", "data directory of the cluster")
	port := fs.Int("port", 55432, "port to listen on (127.0.0.1 only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	abs, _ := filepath.Abs(*dir)
	c, err := localpg.Open(abs, *port)
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "postgres: cluster in %s answers on 127.0.0.1:%d\n", abs, *port)
	fmt.Fprintln(stdout, c.URL("postgres"))
	return nil
}
