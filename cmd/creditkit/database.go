package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/config"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Behind a transaction pooler a server connection is the app's for one
// transaction only, so nothing may be left on it for the next: no LISTEN
// (River polls instead), no session-level advisory lock (migrations take
// theirs on DATABASE_URL_DIRECT), no SET outside a transaction, and no
// named prepared statement. pgx's default mode (cache_statement) prepares
// each query once per connection under a name; Debian 12's PgBouncer
// (1.18) forwards that to whichever server connection it holds at the
// time, and the next transaction may run on one that never saw it. So
// pgx is told to use cache_describe: each query is parsed as the unnamed
// statement in the same round trip that runs it, with the parameter and
// result types cached on the client, which every PgBouncer version
// carries. PgBouncer 1.21 and later track protocol-level prepared
// statements (max_prepared_statements > 0); there, adding
// default_query_exec_mode=cache_statement to DATABASE_URL keeps pgx's
// default, and `creditkit check` says whether the pooler carries it.
const poolerExecMode = pgx.QueryExecModeCacheDescribe

// poolConfig parses url for the app's pool, fitting pgx to what stands in
// front of Postgres there. A mode named in the URL itself wins.
func poolConfig(url string, pooler config.Pooler) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if pooler == config.PoolerTransaction && !strings.Contains(url, "default_query_exec_mode") {
		cfg.ConnConfig.DefaultQueryExecMode = poolerExecMode
	}
	return cfg, nil
}

// probePool is a pool of one connection, apart from the app's, for the
// readiness probe (and the start-up's schema check, whose connection it
// keeps). On the app's pool a probe waited for a connection whenever River
// or a burst of requests held them all: at start River's (its leader
// election, LISTEN connection and producers take several at once) cost a
// replica's first /readyz 45-62 ms. The probe still asks the database each
// time, with the app's connection settings, so its answer stays the truth
// about the database; concurrent probes take turns on the one connection.
func probePool(ctx context.Context, app *pgxpool.Config) (*pgxpool.Pool, error) {
	cfg := app.Copy()
	cfg.MinConns, cfg.MinIdleConns, cfg.MaxConns = 0, 0, 1
	return pgxpool.NewWithConfig(ctx, cfg)
}

// replicaConnectTimeout bounds a connection attempt to the read replica
// when DATABASE_REPLICA_URL names none (connect_timeout): a replica that
// does not answer costs a dashboard this long, once, before its reads go
// to the primary for a while.
const replicaConnectTimeout = 3 * time.Second

// openReporting builds the reporting router: on the replica when
// DATABASE_REPLICA_URL is set, else on the primary alone. The replica is
// not required to answer at start: until it does, reports read the primary.
func openReporting(ctx context.Context, cfg *config.Config, primary *ledger.Store, log *slog.Logger) (*ledger.Reporting, func(), error) {
	opts := []ledger.ReportingOption{ledger.WithReportingLogger(log.With(slog.String("component", "reporting")))}
	if cfg.DatabaseReplicaURL == "" {
		return ledger.NewReporting(primary, nil, opts...), func() {}, nil
	}
	pc, err := poolConfig(cfg.DatabaseReplicaURL, cfg.DatabasePooler)
	if err != nil {
		return nil, nil, fmt.Errorf("read replica: %w", err)
	}
	if !strings.Contains(cfg.DatabaseReplicaURL, "connect_timeout") {
		pc.ConnConfig.ConnectTimeout = replicaConnectTimeout
	}
	if !strings.Contains(cfg.DatabaseReplicaURL, "pool_max_conns") {
		pc.MaxConns = 10 // people's page loads, not the webhook's traffic
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, nil, fmt.Errorf("read replica: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, replicaConnectTimeout)
	if err := pool.Ping(pingCtx); err != nil {
		log.Warn("the read replica does not answer yet: reports read the primary until it does", slog.String("error", err.Error()))
	} else {
		log.Info("reports read the replica", slog.String("host", pc.ConnConfig.Host))
	}
	cancel()
	return ledger.NewReporting(primary, ledger.NewStore(pool), opts...), pool.Close, nil
}

// execModeName is how pgx's URL parameter default_query_exec_mode names a mode.
func execModeName(m pgx.QueryExecMode) string {
	switch m {
	case pgx.QueryExecModeCacheStatement:
		return "cache_statement"
	case pgx.QueryExecModeCacheDescribe:
		return "cache_describe"
	case pgx.QueryExecModeDescribeExec:
		return "describe_exec"
	case pgx.QueryExecModeExec:
		return "exec"
	case pgx.QueryExecModeSimpleProtocol:
		return "simple_protocol"
	}
	return "unknown"
}

// prepareDatabase is the database's part of a replica's start: a connection
// (the readiness probe's, kept), then, unless told not to, both schemas
// brought up to date. The schema's read is the round trip that shows
// Postgres answers; with -migrate=false a ping is.
func prepareDatabase(ctx context.Context, probe *pgxpool.Pool, migrate bool, migrationURL string, log *slog.Logger) error {
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := probe.Acquire(connectCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if !migrate {
		// Behind a pooler, a login can be answered by the pooler alone
		// while Postgres is down; the schema's read below reaches Postgres,
		// and without it one plain round trip does.
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = conn.Ping(pingCtx)
		cancel()
		conn.Release()
		if err != nil {
			return fmt.Errorf("database: %w", err)
		}
		return nil
	}
	conn.Release()
	return migrateSchema(ctx, ledger.NewStore(probe), migrationURL, log)
}

// migrateSchema brings both schemas (the app's and River's) up to date. A
// replica (re)starting on a current database only reads the versions, in one
// statement on the connection it already has (the probe's);
// golang-migrate, with its own connection and lock, runs only when there
// is something to apply (or the version cannot be read: a new database).
func migrateSchema(ctx context.Context, store *ledger.Store, databaseURL string, log *slog.Logger) error {
	start := time.Now()
	if st, err := store.SchemaStatus(ctx); err == nil && st.Current() {
		log.Info("schema current", slog.Uint64("version", uint64(st.Version)), slog.Uint64("river_version", uint64(st.River)),
			slog.Duration("took", time.Since(start)))
		return nil
	}
	if err := migrations.Up(ctx, databaseURL); err != nil {
		return err
	}
	log.Info("migrations applied", slog.Uint64("version", uint64(migrations.Latest())),
		slog.Uint64("river_version", uint64(migrations.RiverLatest())), slog.Duration("took", time.Since(start)))
	return nil
}
