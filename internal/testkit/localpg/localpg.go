// Package localpg finds a Postgres to develop, benchmark and fault-test
// against: the one DATABASE_URL names when it answers, or a cluster of the
// project's own, made with the machine's Postgres binaries in a directory of
// the caller's choosing (.data/postgres for `make dev`).
//
// Owning the cluster is what lets the fault tests stop Postgres for longer
// than Whop's retry window without touching the machine's own server.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries means no initdb/pg_ctl were found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (install them: apt-get install postgresql, or brew install postgresql@16)")

// Answers reports whether a Postgres answers at url within timeout.
func Answers(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// Binaries locates initdb and pg_ctl: on PATH first, then the newest
// /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH).
func Binaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			// A symlink on PATH (/usr/local/bin/pg_ctl) leads to the
			// directory with the rest, pg_basebackup among them.
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// Cluster is a Postgres cluster this package made and runs.
type Cluster struct {
	Dir  string // data directory
	Port int
	// MaxConnections is Postgres's max_connections (0: 200). A cluster
	// behind a pooler can be given few, to show the pooler keeps to them.
	MaxConnections int
	binDir         string
	cred           *syscall.Credential // run as the postgres user when we are root
}

// Open prepares a cluster in dir (initdb on first use, trust auth on
// 127.0.0.1 only) without starting it. As root it runs as the postgres user,
// since Postgres refuses to run as root; dir's parents must be traversable.
func Open(dir string, port int) (*Cluster, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, Port: port, binDir: bin, cred: cred}
	if _, err := os.Stat(filepath.Join(abs, "PG_VERSION")); err == nil {
		return c, nil
	}
	// The parents must let the postgres user through; the data dir itself
	// stays private, as initdb requires.
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(abs, 0o700); err != nil && !os.IsExist(err) {
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(abs, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
	}
	out, err := c.command("initdb", "-D", abs, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-instructions").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return c, nil
}

// runAs is the postgres user's credential when we are root (Postgres and
// PgBouncer both refuse to run as root), else nil: run as ourselves.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user to run Postgres and PgBouncer as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Start starts the cluster and waits until it accepts connections.
func (c *Cluster) Start(ctx context.Context) error {
	if c.running() {
		return nil
	}
	maxConns := c.MaxConnections
	if maxConns == 0 {
		maxConns = 200
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories='' -c max_connections=%d -c fsync=on", c.Port, maxConns)
	cmd := c.command("pg_ctl", "start", "-D", c.Dir, "-w", "-t", "60", "-o", opts, "-l", filepath.Join(c.Dir, "server.log"))
	// Detach from our process group so a Ctrl-C in the terminal reaches us,
	// not Postgres; we stop it ourselves, cleanly.
	cmd.SysProcAttr.Setpgid = true
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s (see %s)", err, strings.TrimSpace(string(out)), filepath.Join(c.Dir, "server.log"))
	}
	return Answers(ctx, c.URL("postgres"), 10*time.Second)
}

// Stop stops the cluster, fast (open transactions roll back).
func (c *Cluster) Stop() error {
	if !c.running() {
		return nil
	}
	if out, err := c.command("pg_ctl", "stop", "-D", c.Dir, "-m", "fast", "-w").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Crash stops the cluster as a crash would: every backend is dropped at
// once, nothing is checkpointed, and the next start recovers from the WAL
// (pg_ctl stop -m immediate).
func (c *Cluster) Crash() error {
	if !c.running() {
		return nil
	}
	if out, err := c.command("pg_ctl", "stop", "-D", c.Dir, "-m", "immediate", "-w").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// URL is a connection URL for database db on this cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// CreateDatabase creates db unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, db string) error {
	return EnsureDatabase(ctx, c.URL(db))
}

func (c *Cluster) running() bool {
	return c.command("pg_ctl", "status", "-D", c.Dir).Run() == nil
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.binDir, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	cmd.Dir = os.TempDir()
	return cmd
}

// EnsureDatabase creates the database url names when its server answers but
// the database does not exist yet.
func EnsureDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	name := cfg.Database
	cfg.Database = "postgres"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}
