package localpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrNoBaseBackup means pg_basebackup was not found beside initdb.
var ErrNoBaseBackup = errors.New("no pg_basebackup beside the Postgres server binaries (Debian: apt-get install postgresql)")

// Standby makes a streaming replica of the running cluster c in dir, to
// listen on port: pg_basebackup copies c over the replication protocol
// and writes primary_conninfo and standby.signal (-R), so the copy starts
// as a hot standby that replays c's WAL as it streams in. It is not
// started. c must allow replication connections from 127.0.0.1, as
// Open's trust setup does.
func (c *Cluster) Standby(ctx context.Context, dir string, port int) (*Cluster, error) {
	if !isExec(filepath.Join(c.binDir, "pg_basebackup")) {
		return nil, ErrNoBaseBackup
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(abs, 0o700); err != nil {
		return nil, fmt.Errorf("standby: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(abs, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
	}
	cmd := c.command("pg_basebackup", "-D", abs, "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres",
		"-R", "-X", "stream", "-c", "fast", "--no-password")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_basebackup: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return &Cluster{Dir: abs, Port: port, MaxConnections: c.MaxConnections, binDir: c.binDir, cred: c.cred}, nil
}

// InRecovery reports whether the cluster runs as a standby.
func (c *Cluster) InRecovery(ctx context.Context) (bool, error) {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var r bool
	err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&r)
	return r, err
}
