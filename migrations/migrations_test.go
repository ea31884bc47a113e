package migrations_test

import (
	"context"
	"slices"
	"testing"

	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/migrations"
)

// TestUpDownUp applies every migration, reverts them all, and applies them
// again on a real database: every down file must undo its up file exactly.
func TestUpDownUp(t *testing.T) {
	db := pgtest.NewEmpty(t)
	ctx := context.Background()
	latest := migrations.Latest()
	if latest == 0 {
		t.Fatal("no embedded migrations")
	}

	st, err := migrations.Version(ctx, db.URL)
	if err != nil {
		t.Fatalf("version on empty database: %v", err)
	}
	river := migrations.RiverLatest()
	if st != (migrations.Status{Version: 0, Dirty: false, Latest: latest, RiverLatest: river}) || st.Current() || river == 0 {
		t.Fatalf("empty database status = %+v", st)
	}

	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up: %v", err)
	}
	tablesUp := tables(t, db)
	assertStatus(t, db.URL, migrations.Status{Version: latest, Latest: latest, River: river, RiverLatest: river}, true)
	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("second up must be a no-op (ErrNoChange is success): %v", err)
	}

	if err := migrations.Down(ctx, db.URL, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	assertStatus(t, db.URL, migrations.Status{Version: 0, Latest: latest, RiverLatest: river}, false)
	if left := tables(t, db); len(left) != 1 || left[0] != "schema_migrations" {
		t.Fatalf("after down, tables left = %v, want only schema_migrations", left)
	}

	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if again := tables(t, db); !slices.Equal(again, tablesUp) {
		t.Fatalf("tables after up/down/up = %v, want %v", again, tablesUp)
	}
	if vs := migrations.Versions(); len(vs) > 1 {
		if err := migrations.Down(ctx, db.URL, 1); err != nil {
			t.Fatalf("down 1: %v", err)
		}
		assertStatus(t, db.URL, migrations.Status{Version: vs[len(vs)-2], Latest: latest, River: river, RiverLatest: river}, false)
	}
}

func assertStatus(t *testing.T, url string, want migrations.Status, current bool) {
	t.Helper()
	st, err := migrations.Version(context.Background(), url)
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	if st != want || st.Current() != current {
		t.Fatalf("status = %+v (current %t), want %+v (current %t)", st, st.Current(), want, current)
	}
}

func tables(t *testing.T, db *pgtest.DB) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVersionsAreContiguous guards against a migration landing below one
// already applied somewhere: golang-migrate only moves forward, so a
// database at version N would never run a newly merged N-1. New migrations
// take the next number after the newest one on main.
func TestVersionsAreContiguous(t *testing.T) {
	vs := migrations.Versions()
	for i, v := range vs {
		if v != uint(i+1) {
			t.Fatalf("migration versions %v: want 1, 2, 3, … with no gaps", vs)
		}
	}
}

// TestReadStatusReadsWhatGolangMigrateReads holds the one-statement read of
// both versions (a replica's start, every readiness probe) to the versions
// golang-migrate and River's table give, at every stage a database passes:
// new, migrated, dirty, its app schema emptied, River behind or with a
// second migration line, River's schema gone.
func TestReadStatusReadsWhatGolangMigrateReads(t *testing.T) {
	db := pgtest.NewEmpty(t)
	ctx := context.Background()
	latest, river := migrations.Latest(), migrations.RiverLatest()
	if _, err := migrations.ReadStatus(ctx, db.Pool); err == nil {
		t.Fatal("ReadStatus on a database with no schema_migrations table: no error, want one (as the readiness probe has always said)")
	}
	if err := migrations.Up(ctx, db.URL); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sql string
		want      migrations.Status
	}{
		{"migrated", ``, migrations.Status{Version: latest, Latest: latest, River: river, RiverLatest: river}},
		{"dirty", `UPDATE schema_migrations SET dirty = true`,
			migrations.Status{Version: latest, Dirty: true, Latest: latest, River: river, RiverLatest: river}},
		{"no app version", `DELETE FROM schema_migrations`, migrations.Status{Latest: latest, River: river, RiverLatest: river}},
		{"River behind", `DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)`,
			migrations.Status{Latest: latest, River: river - 1, RiverLatest: river}},
		{"another River line", `INSERT INTO river_migration (line, version) VALUES ('other', 99)`,
			migrations.Status{Latest: latest, River: river - 1, RiverLatest: river}},
		{"no River table", `DROP TABLE river_migration`, migrations.Status{Latest: latest, RiverLatest: river}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sql != "" {
				if _, err := db.Pool.Exec(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
			}
			got, err := migrations.ReadStatus(ctx, db.Pool)
			if err != nil || got != tc.want {
				t.Fatalf("ReadStatus = %+v, %v; want %+v", got, err, tc.want)
			}
			if byMigrate, err := migrations.Version(ctx, db.URL); err != nil || byMigrate != got {
				t.Fatalf("golang-migrate and River's table say %+v (%v), ReadStatus %+v", byMigrate, err, got)
			}
		})
	}
}
