package server_test

import (
	"encoding/json"
	"sort"
	"testing"
)

// snapshot is every row of every table of the app's database, as text, by
// table: two snapshots are equal exactly when nothing was written.
func (a *app) snapshot() map[string]string {
	a.t.Helper()
	rows, err := a.db.Pool.Query(a.ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		a.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			a.t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		a.t.Fatalf("snapshot found only the tables %v", tables)
	}
	out := map[string]string{}
	for _, name := range tables {
		var text string
		if err := a.db.Pool.QueryRow(a.ctx, `SELECT coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '') FROM `+name+` t`).Scan(&text); err != nil {
			a.t.Fatalf("snapshot %s: %v", name, err)
		}
		out[name] = text
	}
	return out
}

// changedTables names the tables whose rows differ between two snapshots.
func changedTables(before, after map[string]string) []string {
	var out []string
	for name, rows := range after {
		if before[name] != rows {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// jsonBody is v as JSON; json.Marshal writes a NUL in a string as \u0000.
func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
