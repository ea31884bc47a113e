package localpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPgBouncer means no pgbouncer binary was found.
var ErrNoPgBouncer = errors.New("no pgbouncer found (install it: apt-get install pgbouncer, or brew install pgbouncer)")

// PgBouncerBinary locates pgbouncer: on PATH, else /usr/sbin, where
// Debian's package puts it (off a normal user's PATH).
func PgBouncerBinary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer", "/opt/homebrew/bin/pgbouncer"} {
		if isExec(p) {
			return p, nil
		}
	}
	return "", ErrNoPgBouncer
}

// PgBouncerConfig is how StartPgBouncer sets PgBouncer up.
type PgBouncerConfig struct {
	// Port is where it listens, on 127.0.0.1.
	Port int
	// Upstream is the Postgres it pools, as a URL: its host, port, user
	// and password are used; any database name is passed through.
	Upstream string
	// PoolSize is the most server connections it opens to Postgres, for
	// every database and user together (default_pool_size and
	// max_db_connections; 0: 20).
	PoolSize int
	// MaxClients is how many clients may connect (0: 500).
	MaxClients int
}

// PgBouncer is a PgBouncer in transaction mode this package started, in
// front of one Postgres.
type PgBouncer struct {
	Port     int
	PoolSize int
	Dir      string // its configuration and log
	user     string
	cmd      *exec.Cmd
	done     chan struct{}
}

// StartPgBouncer writes a configuration into dir (created if need be) and
// starts PgBouncer in transaction mode with trust authentication on
// 127.0.0.1 only, logging in to Postgres as the upstream URL's user. As
// root it runs as the postgres user, since PgBouncer refuses to run as
// root; dir's parents must be traversable.
func StartPgBouncer(ctx context.Context, dir string, cfg PgBouncerConfig) (*PgBouncer, error) {
	bin, err := PgBouncerBinary()
	if err != nil {
		return nil, err
	}
	up, err := url.Parse(cfg.Upstream)
	if err != nil || up.Hostname() == "" {
		return nil, fmt.Errorf("pgbouncer: upstream %q is not a postgres:// URL", cfg.Upstream)
	}
	user, password := up.User.Username(), ""
	if p, ok := up.User.Password(); ok {
		password = p
	}
	if user == "" {
		user = "postgres"
	}
	upPort := up.Port()
	if upPort == "" {
		upPort = "5432"
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = 20
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = 500
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
admin_users = %s
stats_users = %s
pool_mode = transaction
default_pool_size = %d
max_db_connections = %d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = %d
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
log_connections = 0
log_disconnections = 0
`, up.Hostname(), upPort, cfg.Port, filepath.Join(abs, "userlist.txt"), user, user,
		cfg.PoolSize, cfg.PoolSize, cfg.MaxClients, filepath.Join(abs, "pgbouncer.log"), filepath.Join(abs, "pgbouncer.pid"))
	files := map[string]string{
		"pgbouncer.ini": ini,
		// With trust the client is not checked, but the user must be
		// listed; the password is what PgBouncer gives Postgres, if asked.
		"userlist.txt": fmt.Sprintf("%q %q\n", user, password),
	}
	for name, body := range files {
		p := filepath.Join(abs, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return nil, err
		}
		if cred != nil {
			os.Chown(p, int(cred.Uid), int(cred.Gid))
		}
	}
	if cred != nil {
		os.Chown(abs, int(cred.Uid), int(cred.Gid))
	}
	b := &PgBouncer{Port: cfg.Port, PoolSize: cfg.PoolSize, Dir: abs, user: user, done: make(chan struct{})}
	b.cmd = exec.Command(bin, filepath.Join(abs, "pgbouncer.ini"))
	// Its own process group, as the cluster has: a Ctrl-C reaches whoever
	// started it, who stops it in order.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	b.cmd.Dir = os.TempDir()
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgbouncer: %w", err)
	}
	go func() {
		b.cmd.Wait()
		close(b.done)
	}()
	if err := b.awaitListening(ctx, 10*time.Second); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

func (b *PgBouncer) awaitListening(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port))
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-b.done:
			return fmt.Errorf("pgbouncer exited at start: %s", b.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgbouncer did not listen on %s within %v: %s", addr, timeout, b.logTail())
		}
	}
}

// logTail is the end of PgBouncer's log, for errors.
func (b *PgBouncer) logTail() string {
	out, _ := os.ReadFile(filepath.Join(b.Dir, "pgbouncer.log"))
	s := strings.TrimSpace(string(out))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// URL is a connection URL for database db through the pooler.
func (b *PgBouncer) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", b.user, b.Port, db)
}

// Stop shuts PgBouncer down at once (SIGTERM: clients are disconnected).
func (b *PgBouncer) Stop() error {
	select {
	case <-b.done:
		return nil
	default:
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
	return nil
}

// ServerConnections asks PgBouncer's admin console (SHOW POOLS) how many
// server connections it holds to Postgres right now, in every state.
func (b *PgBouncer) ServerConnections(ctx context.Context) (int, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s@127.0.0.1:%d/pgbouncer?sslmode=disable", b.user, b.Port))
	if err != nil {
		return 0, err
	}
	// The admin console speaks only the simple query protocol.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SHOW POOLS")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	total := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return 0, err
		}
		for i, f := range rows.FieldDescriptions() {
			if !strings.HasPrefix(f.Name, "sv_") {
				continue
			}
			n, _ := strconv.Atoi(fmt.Sprint(vals[i]))
			total += n
		}
	}
	return total, rows.Err()
}
