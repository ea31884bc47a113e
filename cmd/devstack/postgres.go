package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/localpg"
)

// Where `make dev` keeps its own cluster when DATABASE_URL does not answer.
// The port is off the default so it never collides with a system Postgres.
const (
	devClusterDir  = ".data/postgres"
	devClusterPort = 54329
	devDatabase    = "creditkit"
	// PgBouncer's directory and port under make dev POOLER=1, beside the
	// cluster's; its pool size is what the app's 20 client connections
	// share.
	devPoolerDir  = ".data/pgbouncer"
	devPoolerPort = 54330
	devPoolerSize = 5
)

// devDB is where make dev's app stores: one URL, or, behind the
// pooler, the pooler's and the direct one for migrations.
type devDB struct {
	url, direct string
	stop        func() // stops what was started, last first
}

// env is the app's database settings.
func (d devDB) env() []string {
	if d.direct == "" {
		return []string{"DATABASE_URL=" + d.url}
	}
	return []string{"DATABASE_URL=" + d.url, "DATABASE_URL_DIRECT=" + d.direct, "DATABASE_POOLER=transaction"}
}

// findDatabase is findPostgres, with PgBouncer in transaction mode in
// front of the project-local cluster when withPooler is set (an outside
// DATABASE_URL is not used then: the pooler needs a server it can log in
// to with the cluster's trust setup).
func findDatabase(ctx context.Context, databaseURL string, withPooler bool, poolerPort int, log io.Writer) (devDB, error) {
	if withPooler && databaseURL != "" {
		fmt.Fprintln(log, "postgres: POOLER=1 runs PgBouncer in front of the project-local cluster; DATABASE_URL is not used")
		databaseURL = ""
	}
	url, stopPG, err := findPostgres(ctx, databaseURL, log)
	if err != nil {
		return devDB{}, err
	}
	db := devDB{url: url, stop: func() {}}
	if stopPG != nil {
		db.stop = func() {
			fmt.Fprintln(log, "postgres: stopping the project-local cluster")
			if err := stopPG(); err != nil {
				fmt.Fprintln(log, "postgres:", err)
			}
		}
	}
	if !withPooler {
		return db, nil
	}
	abs, _ := filepath.Abs(devPoolerDir)
	b, err := localpg.StartPgBouncer(ctx, abs, localpg.PgBouncerConfig{Port: poolerPort, Upstream: url, PoolSize: devPoolerSize})
	if err != nil {
		db.stop()
		return devDB{}, err
	}
	fmt.Fprintf(log, "pgbouncer: transaction mode on 127.0.0.1:%d, at most %d connections to Postgres (log: %s/pgbouncer.log)\n",
		poolerPort, devPoolerSize, abs)
	stopCluster := db.stop
	db.url, db.direct = b.URL(devDatabase), url
	db.stop = func() {
		fmt.Fprintln(log, "pgbouncer: stopping")
		b.Stop()
		stopCluster()
	}
	return db, nil
}

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
