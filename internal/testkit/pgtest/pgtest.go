// Package pgtest gives each test a fresh, fully migrated Postgres database of
// its own, so tests that store run against the real thing and never see each
// other's rows.
//
// The first call in a test binary builds (or reuses) a template database
// migrated to the embedded schema and named after its checksum; every test then
// gets a clone made with CREATE DATABASE … TEMPLATE, which takes tens of
// milliseconds instead of a full migration, and drops it when the test ends.
// Templates are named ck_tpl_<checksum>; stale ones are harmless and may be
// dropped by hand.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultAdminURL is used when TEST_DATABASE_URL is unset: the local server
// with trust auth that `.ci/run` and `make dev` rely on.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the server tests create their databases on.
func AdminURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return DefaultAdminURL
}

// DB is one test's database.
type DB struct {
	URL  string
	Name string
	Pool *pgxpool.Pool
}

// New creates a migrated database for t, dropped when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	return create(t, "ck_t_", true)
}

// NewEmpty creates a database with no schema at all, for migration tests.
func NewEmpty(t testing.TB) *DB {
	t.Helper()
	return create(t, "ck_e_", false)
}

func create(t testing.TB, prefix string, migrated bool) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := connectAdmin(ctx, t)
	defer admin.Close(context.Background())

	name := prefix + randomHex(6)
	sql := "CREATE DATABASE " + name
	if migrated {
		sql += " TEMPLATE " + ensureTemplate(ctx, t, admin)
	}
	if _, err := admin.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	dbURL := withDatabase(t, AdminURL(), name)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: pool for %s: %v", name, err)
	}
	t.Cleanup(func() {
		pool.Close()
		drop(t, name)
	})
	return &DB{URL: dbURL, Name: name, Pool: pool}
}

func connectAdmin(ctx context.Context, t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("pgtest: no Postgres at %s (%v). Tests that store need a real Postgres: "+
			"start one (bash .ci/run does) or set TEST_DATABASE_URL", redact(AdminURL()), err)
	}
	return conn
}

// ensureTemplate builds the migrated template once per migration set. An
// advisory lock keeps parallel test binaries from building it twice.
func ensureTemplate(ctx context.Context, t testing.TB, admin *pgx.Conn) string {
	t.Helper()
	name := "ck_tpl_" + migrations.Checksum()
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		t.Fatalf("pgtest: lock: %v", err)
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(727274)")

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("pgtest: look for template: %v", err)
	}
	if exists {
		return name
	}
	// Templates of other migration sets stay: another checkout (a branch in
	// a worktree) may be cloning one right now. They are small caches.
	building := name + "_b"
	admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		t.Fatalf("pgtest: create template: %v", err)
	}
	if err := migrations.Up(ctx, withDatabase(t, AdminURL(), building)); err != nil {
		t.Fatalf("pgtest: migrate template: %v", err)
	}
	// Rename only once complete, so a crash mid-migration never leaves a
	// half-built template that later runs would trust.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		t.Fatalf("pgtest: finish template: %v", err)
	}
	return name
}

func drop(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Logf("pgtest: drop %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Logf("pgtest: drop %s: %v", name, err)
	}
}

func withDatabase(t testing.TB, base, name string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("pgtest: TEST_DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("pgtest: random: %v", err))
	}
	return hex.EncodeToString(b)
}
