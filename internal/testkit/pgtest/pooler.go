package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/localpg"
)

// Pooler starts a PgBouncer of the test's own in transaction mode on a
// free port, in front of the server tests create their databases on,
// holding at most poolSize connections to it; it stops when t ends. A
// machine without pgbouncer skips the test loudly (and fails it under
// CI=true). URL(db.Name) reaches a test's database through it.
func Pooler(t testing.TB, poolSize int) *localpg.PgBouncer {
	t.Helper()
	_, err := localpg.PgBouncerBinary()
	localpg.RequireTool(t, err)
	port := freeport.For(t)
	// As root PgBouncer runs as the postgres user, which must reach its
	// directory: t.TempDir() is private to us.
	dir, err := os.MkdirTemp("", "pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := localpg.StartPgBouncer(ctx, dir, localpg.PgBouncerConfig{Port: port, Upstream: AdminURL(), PoolSize: poolSize})
	if err != nil {
		t.Fatalf("pgtest: pgbouncer: %v", err)
	}
	t.Cleanup(func() { b.Stop() })
	return b
}
