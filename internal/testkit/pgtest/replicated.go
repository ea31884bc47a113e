package pgtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/localpg"
	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Replicated is a primary and its streaming standby, clusters of a test's
// own: the standby can be paused, lag and be killed without touching the
// server other tests use.
type Replicated struct {
	// Primary is the migrated database on the primary, as New gives.
	Primary *DB
	// ReplicaURL reaches the same database on the standby.
	ReplicaURL string
	// Standby is the standby's cluster, to stop or crash.
	Standby *localpg.Cluster
}

// NewReplicated makes a cluster with the machine's Postgres binaries,
// migrates a database on it, copies it with pg_basebackup into a hot
// standby that streams its WAL, and starts both; both stop when t ends.
// A machine without the binaries skips the test loudly (and fails it
// under CI=true).
func NewReplicated(t testing.TB) *Replicated {
	t.Helper()
	_, err := localpg.Binaries()
	localpg.RequireTool(t, err)
	// As root Postgres runs as the postgres user, which must get in.
	dir, err := os.MkdirTemp("", "pgtest-replicated-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	primary := startCluster(t, ctx, func(port int) (*localpg.Cluster, error) {
		return localpg.Open(filepath.Join(dir, "primary"), port)
	})
	const name = "creditkit"
	if err := primary.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	if err := migrations.Up(ctx, primary.URL(name)); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	standby := startCluster(t, ctx, func(port int) (*localpg.Cluster, error) {
		return primary.Standby(ctx, filepath.Join(dir, "standby"), port)
	})
	pool, err := pgxpool.New(ctx, primary.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &Replicated{Primary: &DB{URL: primary.URL(name), Name: name, Pool: pool},
		ReplicaURL: standby.URL(name), Standby: standby}
}

// startCluster makes a cluster on a free port with open and starts it.
func startCluster(t testing.TB, ctx context.Context, open func(port int) (*localpg.Cluster, error)) *localpg.Cluster {
	t.Helper()
	port := freeport.For(t)
	c, err := open(port)
	localpg.RequireTool(t, skippable(err))
	if err != nil {
		t.Fatalf("pgtest: cluster: %v", err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatalf("pgtest: start cluster: %v", err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// skippable keeps, of err, only a missing tool: anything else is a failure.
func skippable(err error) error {
	if errors.Is(err, localpg.ErrNoBaseBackup) || errors.Is(err, localpg.ErrNoBinaries) {
		return err
	}
	return nil
}
