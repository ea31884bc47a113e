// Package migrations holds the database schema as numbered SQL files, embedded
// in the binary, and applies them with golang-migrate's iofs source, beside
// River's own schema (the job queue's), applied with River's embedded
// migrator (river.go).
//
// An applied migration is never edited: change the schema with a new pair of
// files (000NNN_name.up.sql / .down.sql).
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver golang-migrate runs on
)

//go:embed *.sql
var files embed.FS

// ErrNotCurrent means the database's migrations, the app's or River's, lag
// (or lead) the ones embedded in this binary.
var ErrNotCurrent = errors.New("ledger: database schema is not at the embedded migration version")

// Versions lists the embedded migration versions, oldest first.
func Versions() []uint {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil
	}
	seen := map[uint]bool{}
	var versions []uint
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(prefix, 10, 32)
		if err == nil && !seen[uint(v)] {
			seen[uint(v)] = true
			versions = append(versions, uint(v))
		}
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	return versions
}

// Latest is the version of the newest embedded migration.
func Latest() uint {
	v := Versions()
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

// Status is where a database stands against the embedded migrations: the
// app's and River's.
type Status struct {
	Version uint // 0 when no migration has been applied
	Dirty   bool // a migration failed half-way; needs a human
	Latest  uint
	// River is River's applied schema version (0 before any), RiverLatest
	// the newest this binary carries.
	River       uint
	RiverLatest uint
}

// Current reports whether the database is clean at the newest version of
// both schemas.
func (s Status) Current() bool {
	return !s.Dirty && s.Version == s.Latest && s.River == s.RiverLatest
}

// Up applies every pending migration, River's first, then the app's. No
// change is success. When the database is already current it costs one
// statement on one connection (ReadStatus), so a replica (re)starting on a
// migrated database is ready in milliseconds.
func Up(ctx context.Context, databaseURL string) error {
	if current(ctx, databaseURL) {
		return nil
	}
	if err := riverUp(ctx, databaseURL); err != nil {
		return err
	}
	return withMigrate(ctx, databaseURL, func(m *migrate.Migrate) error {
		if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return fmt.Errorf("migrate up: %w", err)
		}
		return nil
	})
}

// UpTo applies River's pending migrations and the app's up to version v
// (for tests of one migration and for careful upgrades by hand).
func UpTo(ctx context.Context, databaseURL string, v uint) error {
	if err := riverUp(ctx, databaseURL); err != nil {
		return err
	}
	return withMigrate(ctx, databaseURL, func(m *migrate.Migrate) error {
		if err := m.Migrate(v); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return fmt.Errorf("migrate to %d: %w", v, err)
		}
		return nil
	})
}

// Down reverts the newest n applied migrations of the app. With n <= 0 it
// reverts all of them and then removes River's schema too, leaving the
// database as it was before any migration.
func Down(ctx context.Context, databaseURL string, n int) error {
	err := withMigrate(ctx, databaseURL, func(m *migrate.Migrate) error {
		var err error
		if n <= 0 {
			err = m.Down()
		} else {
			err = m.Steps(-n)
		}
		if err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return fmt.Errorf("migrate down: %w", err)
		}
		return nil
	})
	if err != nil || n > 0 {
		return err
	}
	return riverDownAll(ctx, databaseURL)
}

// Version reports the database's migration versions against the newest ones.
func Version(ctx context.Context, databaseURL string) (Status, error) {
	st := Status{Latest: Latest(), RiverLatest: RiverLatest()}
	err := withMigrate(ctx, databaseURL, func(m *migrate.Migrate) error {
		v, dirty, err := m.Version()
		if errors.Is(err, migrate.ErrNilVersion) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrate version: %w", err)
		}
		st.Version, st.Dirty = v, dirty
		return nil
	})
	if err != nil {
		return st, err
	}
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return st, fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st.River, err = RiverVersion(ctx, conn)
	return st, err
}

// current reports whether the database is clean at the newest version. Any
// doubt (no table yet, a connection error) answers false, and golang-migrate
// then does the real work under its lock.
func current(ctx context.Context, databaseURL string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	st, err := ReadStatus(ctx, conn)
	return err == nil && st.Current()
}

// VersionQuery reads the applied version straight from golang-migrate's
// table, without golang-migrate and its connection of its own.
const VersionQuery = `SELECT version, dirty FROM schema_migrations LIMIT 1`

// StatusQuery reads both applied versions, the app's and River's, in one
// statement: a replica's start and every readiness probe run it, and on a
// fresh connection each statement costs a round trip and Postgres's first
// look at the tables it names. It reads plain rows (golang-migrate keeps
// one; River one per migration and line) and leaves the max to Go: on a
// fresh connection Postgres took twice as long to plan max(version) with
// WHERE line = 'main' as to read both tables.
const StatusQuery = `SELECT NULL::text AS river_line, version, dirty FROM schema_migrations
UNION ALL SELECT line, version, false FROM river_migration`

// ReadStatus reads where the database stands, the app's schema and River's,
// in one round trip (the simple protocol: nothing is prepared first, and a
// transaction pooler carries it). On a database where either table is
// missing it reads them one at a time, as a new database's status reads: no
// River table is River at 0, no schema_migrations table is an error.
func ReadStatus(ctx context.Context, db Querier) (Status, error) {
	st := Status{Latest: Latest(), RiverLatest: RiverLatest()}
	rows, err := db.Query(ctx, StatusQuery, pgx.QueryExecModeSimpleProtocol)
	if isUndefinedTable(err) {
		return readStatusApart(ctx, db, st)
	}
	if err != nil {
		return st, fmt.Errorf("schema versions: %w", err)
	}
	var (
		riverLine  *string
		version    int64
		dirty      bool
		appVersion bool
	)
	_, err = pgx.ForEachRow(rows, []any{&riverLine, &version, &dirty}, func() error {
		switch {
		case riverLine == nil && !appVersion:
			st.Version, st.Dirty, appVersion = uint(max(version, 0)), dirty, true // -1: dirty before any version
		case riverLine != nil && *riverLine == "main":
			st.River = max(st.River, uint(version))
		}
		return nil
	})
	if isUndefinedTable(err) {
		return readStatusApart(ctx, db, st)
	}
	if err != nil {
		return st, fmt.Errorf("schema versions: %w", err)
	}
	return st, nil
}

// readStatusApart reads the two versions with a statement each, so a missing
// River table reads as River at 0.
func readStatusApart(ctx context.Context, db Querier, st Status) (Status, error) {
	var v int64
	err := db.QueryRow(ctx, VersionQuery).Scan(&v, &st.Dirty)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return st, fmt.Errorf("schema version: %w", err)
	default:
		st.Version = uint(max(v, 0))
	}
	if st.River, err = RiverVersion(ctx, db); err != nil {
		return st, err
	}
	return st, nil
}

func withMigrate(ctx context.Context, databaseURL string, fn func(*migrate.Migrate) error) error {
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	driver, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{})
	if err != nil {
		return fmt.Errorf("migration driver: %w", err)
	}
	src, err := iofs.New(files, ".")
	if err != nil {
		return fmt.Errorf("migration source: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer m.Close()
	// golang-migrate takes no context; stop it between steps when ours ends.
	stop := context.AfterFunc(ctx, func() {
		select {
		case m.GracefulStop <- true:
		default:
		}
	})
	defer stop()
	return fn(m)
}

// Checksum identifies the exact set of embedded migration files, so a cached
// copy of a migrated database (the test template) is rebuilt when any changes.
func Checksum() string {
	h := sha256.New()
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		b, _ := fs.ReadFile(files, e.Name())
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "river\x00%d", RiverLatest()) // River's schema is part of the set
	return hex.EncodeToString(h.Sum(nil))[:16]
}
