package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/internal/config"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// checkDatabase tries DATABASE_URL as serve would use it, then says what
// stands in front of it and whether the settings fit, then tries the
// direct and replica URLs when they are set.
func (p *preflight) checkDatabase(ctx context.Context) {
	ctx, cancel := p.timeout(ctx)
	defer cancel()
	cfg := p.cfg
	pc, err := poolConfig(cfg.DatabaseURL, cfg.DatabasePooler)
	var probe poolerProbe
	var probeErr error
	if err == nil {
		probe, probeErr = probePooler(ctx, pc.ConnConfig)
	}
	var pool *pgxpool.Pool
	if err == nil {
		// The schema is read the way that works behind whatever was found;
		// whether serve's own settings fit is the pooler line's to say.
		sc := pc.Copy()
		if probe.pooled {
			sc.ConnConfig.DefaultQueryExecMode = poolerExecMode
		}
		pool, err = pgxpool.NewWithConfig(ctx, sc)
	}
	if err == nil {
		defer pool.Close()
		err = pool.Ping(ctx)
	}
	if err != nil {
		p.fail("DATABASE_URL", "Postgres does not answer", "start it, or fix host, port, user and password in DATABASE_URL")
		return
	}
	st, err := ledger.NewStore(pool).SchemaStatus(ctx)
	switch {
	case err != nil:
		p.fail("schema", "could not read the migration version (an empty database?)",
			"run creditkit migrate up, or start creditkit serve, which applies the migrations")
	case !st.Current():
		p.fail("schema", fmt.Sprintf("at version %d of %d (dirty: %t)", st.Version, st.Latest, st.Dirty),
			"run creditkit migrate up, or start creditkit serve, which applies the migrations")
	default:
		p.pass("DATABASE_URL", fmt.Sprintf("Postgres answers; the schema is current (version %d)", st.Version))
	}
	p.checkPooler(pc.ConnConfig, probe, probeErr)
	if cfg.DatabaseDirectURL != "" {
		p.checkDirect(ctx)
	}
	if cfg.DatabaseReplicaURL != "" {
		p.checkReplica(ctx)
	}
}

// checkPooler says when DATABASE_URL goes through a transaction pooler and
// whether DATABASE_POOLER and pgx's statement mode fit it. Straight to
// Postgres with the default settings, it prints nothing.
func (p *preflight) checkPooler(cc *pgx.ConnConfig, probe poolerProbe, err error) {
	if err != nil {
		p.fail("DATABASE_POOLER", "could not tell what DATABASE_URL goes through: "+err.Error(),
			"check that DATABASE_URL accepts two connections at once")
		return
	}
	mode := execModeName(cc.DefaultQueryExecMode)
	switch {
	case probe.pooled && p.cfg.DatabasePooler != config.PoolerTransaction:
		p.fail("DATABASE_POOLER", "DATABASE_URL goes through a transaction pooler ("+probe.evidence+"), but DATABASE_POOLER is none",
			"set DATABASE_POOLER=transaction and DATABASE_URL_DIRECT to the primary's own address: otherwise River LISTENs, "+
				"migrations take session locks and pgx names prepared statements, none of which a transaction pooler carries")
	case probe.pooled && cc.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement && !probe.namedStatements:
		p.fail("DATABASE_POOLER", "DATABASE_URL asks pgx for cache_statement, but the pooler does not carry named prepared statements ("+
			probe.statementErr+")", "remove default_query_exec_mode from DATABASE_URL (Creditkit then uses cache_describe), "+
			"or run PgBouncer 1.21 or later with max_prepared_statements above 0")
	case probe.pooled:
		p.pass("DATABASE_POOLER", "transaction: DATABASE_URL goes through a transaction pooler ("+probe.evidence+
			"); River polls for jobs, pgx runs "+mode+statementNote(cc.DefaultQueryExecMode))
	case p.cfg.DatabasePooler == config.PoolerTransaction:
		p.pass("DATABASE_POOLER", "transaction, though no transaction pooler showed itself (each session kept a Postgres backend of its own): "+
			"these settings work on Postgres itself too; River polls rather than listens, pgx runs "+mode)
	}
}

func statementNote(m pgx.QueryExecMode) string {
	if m == pgx.QueryExecModeCacheStatement {
		return " (the pooler carries named prepared statements)"
	}
	return " (unnamed statements, which any PgBouncer carries)"
}

// checkDirect tries DATABASE_URL_DIRECT: it must reach the primary itself,
// where migrations hold their session-level advisory locks.
func (p *preflight) checkDirect(ctx context.Context) {
	const name = "DATABASE_URL_DIRECT"
	cc, err := pgx.ParseConfig(p.cfg.DatabaseDirectURL)
	var conn *pgx.Conn
	if err == nil {
		conn, err = pgx.ConnectConfig(ctx, cc)
	}
	if err != nil {
		p.fail(name, "Postgres does not answer", "give the primary's own host and port (not the pooler's), user and password")
		return
	}
	var db string
	var standby bool
	err = conn.QueryRow(ctx, `SELECT current_database(), pg_is_in_recovery()`, pgx.QueryExecModeSimpleProtocol).Scan(&db, &standby)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		p.fail(name, "Postgres answered but could not be read: "+err.Error(), "check the user's rights on the database")
		return
	}
	probe, err := probePooler(ctx, cc)
	switch {
	case err != nil:
		p.fail(name, "could not tell what it goes through: "+err.Error(), "check that it accepts two connections at once")
	case probe.pooled:
		p.fail(name, "goes through a transaction pooler too ("+probe.evidence+")",
			"give the primary's own host and port: migrations hold session-level advisory locks, which a transaction pooler cannot keep")
	case standby:
		p.fail(name, "is a standby (in recovery): migrations must run on the primary", "give the primary's address")
	default:
		p.pass(name, "reaches the primary (database "+db+") with no transaction pooler between: migrations take their session locks there")
	}
}

// checkReplica tries DATABASE_REPLICA_URL: that it answers, how far behind
// it is, and that its schema is the primary's.
func (p *preflight) checkReplica(ctx context.Context) {
	const name = "DATABASE_REPLICA_URL"
	pc, err := poolConfig(p.cfg.DatabaseReplicaURL, p.cfg.DatabasePooler)
	var pool *pgxpool.Pool
	if err == nil {
		pool, err = pgxpool.NewWithConfig(ctx, pc)
	}
	if err == nil {
		defer pool.Close()
		err = pool.Ping(ctx)
	}
	if err != nil {
		p.fail(name, "the read replica does not answer (reports would read the primary until it does)",
			"fix host, port, user and password in DATABASE_REPLICA_URL, or leave it empty to read reports from the primary")
		return
	}
	replica := ledger.NewStore(pool)
	var standby bool
	if err := pool.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&standby); err != nil {
		p.fail(name, "the replica answered but could not be read: "+err.Error(), "check the user's rights on the database")
		return
	}
	lag, err := replica.ReplicaLag(ctx, time.Now())
	if err != nil {
		p.fail(name, "the replica's lag could not be read: "+err.Error(), "check the user's rights on the replica")
		return
	}
	st, err := replica.SchemaStatus(ctx)
	switch {
	case err != nil || st.Version == 0:
		p.fail(name, "its schema could not be read: is it a replica of DATABASE_URL's database?",
			"point it at a standby of the primary (pg_basebackup, or your provider's read replica) and the same database name")
	case !st.Current():
		p.fail(name, fmt.Sprintf("its schema is at version %d of %d: it is behind, or a replica of another database", st.Version, migrations.Latest()),
			"wait for it to catch up after a migration, or point it at a standby of DATABASE_URL's database")
	case !standby:
		p.pass(name, fmt.Sprintf("answers, schema current (version %d), not a standby in recovery (a logical replica or a copy: its lag cannot be measured); reports read it", st.Version))
	default:
		p.pass(name, fmt.Sprintf("a standby %s behind, schema current (version %d): dashboard reports, the owner's overview and payment look-ups read it",
			lagText(lag), st.Version))
	}
}

func lagText(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// poolerProbe is what probePooler found.
type poolerProbe struct {
	pooled   bool   // sessions shared a Postgres backend
	evidence string // what showed it
	// namedStatements is set when a statement prepared under a name on
	// one session and the same name on another both worked; statementErr
	// is what failed otherwise.
	namedStatements bool
	statementErr    string
}

// probePooler opens two sessions at once and asks each, in turn, for its
// Postgres backend's pid. Postgres gives every session a backend of its
// own for its whole life, as does a pooler in session mode; a pooler in
// transaction mode hands its few server connections to whichever session
// starts a transaction, so one backend soon answers both, or one session
// is answered by several. Its queries use the simple protocol, which
// prepares nothing, so the probe itself cannot trip on a pooler.
func probePooler(ctx context.Context, cc *pgx.ConnConfig) (poolerProbe, error) {
	var out poolerProbe
	var conns [2]*pgx.Conn
	for i := range conns {
		c, err := pgx.ConnectConfig(ctx, cc.Copy())
		if err != nil {
			return out, err
		}
		defer c.Close(context.WithoutCancel(ctx))
		conns[i] = c
	}
	seen := [2]map[uint32]bool{{}, {}}
	for range 6 {
		for i, c := range conns {
			var pid uint32
			if err := c.QueryRow(ctx, `SELECT pg_backend_pid()`, pgx.QueryExecModeSimpleProtocol).Scan(&pid); err != nil {
				return out, err
			}
			seen[i][pid] = true
			if seen[1-i][pid] {
				out.pooled, out.evidence = true, fmt.Sprintf("two sessions were both served by Postgres backend %d", pid)
			}
		}
	}
	for i := range seen {
		if len(seen[i]) > 1 && !out.pooled {
			out.pooled, out.evidence = true, fmt.Sprintf("one session was served by %d Postgres backends in turn", len(seen[i]))
		}
	}
	if out.pooled {
		out.namedStatements, out.statementErr = probeNamedStatements(ctx, conns)
	}
	return out, nil
}

// probeNamedStatements prepares one name on both sessions and runs it on
// the first: on one backend without the pooler's tracking the second
// prepare collides, on two the run may find nothing under that name.
func probeNamedStatements(ctx context.Context, conns [2]*pgx.Conn) (bool, string) {
	// A name of its own each run: a statement a pooler kept from an
	// earlier probe must not decide this one.
	name := fmt.Sprintf("creditkit_check_probe_%d", time.Now().UnixNano())
	var err error
	for i, c := range conns {
		if _, err = c.Prepare(ctx, name, fmt.Sprintf("SELECT %d", i)); err != nil {
			break
		}
	}
	for range 4 {
		if err != nil {
			break
		}
		var n int
		err = conns[0].QueryRow(ctx, name).Scan(&n)
		if err == nil && n != 0 {
			err = errors.New("a statement prepared by one session answered another's")
		}
	}
	for _, c := range conns {
		c.Deallocate(ctx, name)
	}
	if err != nil {
		return false, err.Error()
	}
	return true, ""
}
