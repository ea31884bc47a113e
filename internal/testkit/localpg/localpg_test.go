package localpg

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
)

// TestClusterLifecycle makes a real cluster, stops it and starts it again:
// the fault tests and `make dev` rely on exactly this.
func TestClusterLifecycle(t *testing.T) {
	if _, err := Binaries(); errors.Is(err, ErrNoBinaries) {
		t.Skip("no Postgres server binaries on this machine")
	}
	// Postgres runs as the postgres user when we are root: the directory's
	// parents must let it in.
	parent, err := os.MkdirTemp("", "localpg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	t.Cleanup(func() { os.RemoveAll(parent) })

	port := freeport.For(t)
	c, err := Open(parent+"/data", port)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { c.Stop() })

	if err := c.CreateDatabase(ctx, "app"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	if err := c.CreateDatabase(ctx, "app"); err != nil {
		t.Fatalf("create database twice must be a no-op: %v", err)
	}
	if err := Answers(ctx, c.URL("app"), 5*time.Second); err != nil {
		t.Fatalf("database should answer: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := Answers(ctx, c.URL("app"), time.Second); err == nil {
		t.Fatal("a stopped cluster answered")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if err := Answers(ctx, c.URL("app"), 5*time.Second); err != nil {
		t.Fatalf("database should answer after restart (data kept): %v", err)
	}
}
