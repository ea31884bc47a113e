package migrations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// River (the job queue) keeps its own schema, river_job and friends, with
// its own numbered migrations embedded in its driver module. They are
// applied here beside ours, from the binary, with no network: River's first,
// because our 000008 moves the old queue's waiting jobs into river_job.

// riverLockKey serializes River's migrator across replicas starting at once
// (golang-migrate takes a lock of its own; River's migrator takes none).
const riverLockKey = 727275

// RiverVersionQuery reads River's applied schema version (0 before any).
const RiverVersionQuery = `SELECT COALESCE(max(version), 0) FROM river_migration WHERE line = 'main'`

var riverLatest = sync.OnceValue(func() uint {
	m, err := newRiverMigrator(nil)
	if err != nil {
		return 0
	}
	all := m.AllVersions()
	if len(all) == 0 {
		return 0
	}
	return uint(all[len(all)-1].Version)
})

// RiverLatest is the newest River schema version this binary carries.
func RiverLatest() uint { return riverLatest() }

// newRiverMigrator returns River's migrator on pool (nil is enough to list
// its versions). River's own log lines stay out of ours.
func newRiverMigrator(pool *pgxpool.Pool) (*rivermigrate.Migrator[pgx.Tx], error) {
	return rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
}

// withRiver runs fn with River's migrator on a small pool of its own,
// holding riverLockKey so two replicas never apply one River migration twice.
func withRiver(ctx context.Context, databaseURL string, fn func(*rivermigrate.Migrator[pgx.Tx]) error) error {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	cfg.MaxConns = 2 // one holds the lock, one migrates
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	defer pool.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("river migrations: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, riverLockKey); err != nil {
		return fmt.Errorf("river migrations: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, riverLockKey)
	m, err := newRiverMigrator(pool)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return fn(m)
}

// riverUp applies River's pending migrations.
func riverUp(ctx context.Context, databaseURL string) error {
	return withRiver(ctx, databaseURL, func(m *rivermigrate.Migrator[pgx.Tx]) error {
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river migrate up: %w", err)
		}
		return nil
	})
}

// riverDownAll removes River's schema entirely.
func riverDownAll(ctx context.Context, databaseURL string) error {
	return withRiver(ctx, databaseURL, func(m *rivermigrate.Migrator[pgx.Tx]) error {
		if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
			return fmt.Errorf("river migrate down: %w", err)
		}
		return nil
	})
}

// Querier is what reading the schema versions needs: a pool or a conn. Not a
// transaction: on a new database ReadStatus's first statement fails and it
// reads again, which an aborted transaction would refuse.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// RiverVersion reads River's applied schema version; 0 when River's schema
// is not there at all.
func RiverVersion(ctx context.Context, db Querier) (uint, error) {
	var v int64
	err := db.QueryRow(ctx, RiverVersionQuery).Scan(&v)
	if isUndefinedTable(err) { // River never migrated
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("river schema version: %w", err)
	}
	return uint(v), nil
}

// isUndefinedTable reports whether err is Postgres's undefined_table: a
// schema not migrated yet.
func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}
