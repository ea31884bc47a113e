package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/migrations"
)

// TestCheckBehindThePooler runs the preflight through a real PgBouncer in
// transaction mode and straight to Postgres, with the database settings
// right and wrong: behind the pooler it says so and whether the settings
// fit; the direct and replica URLs get a line each when set.
func TestCheckBehindThePooler(t *testing.T) {
	e, _ := checkEnv(t)
	pooler := pgtest.Pooler(t, 2)
	u, err := url.Parse(e["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	direct, db := e["DATABASE_URL"], strings.TrimPrefix(u.Path, "/")
	pooled := pooler.URL(db)
	closed := strings.Replace(closedURL(t), "http://", "postgres://u@", 1) + "/x?connect_timeout=2"
	latest := migrations.Latest()
	tests := []struct {
		name string
		set  map[string]string
		pass []string // ✓ lines, from their start
		fail string   // the one ✗ line, from its start ("" for none)
		fix  string   // what its advice says
	}{
		{"behind the pooler, settings fit",
			map[string]string{"DATABASE_URL": pooled, "DATABASE_POOLER": "transaction", "DATABASE_URL_DIRECT": direct},
			[]string{"✓ DATABASE_URL: Postgres answers; the schema is current",
				"✓ DATABASE_POOLER: transaction: DATABASE_URL goes through a transaction pooler (two sessions were both served by Postgres backend ",
				"); River polls for jobs, pgx runs cache_describe (unnamed statements, which any PgBouncer carries)",
				"✓ DATABASE_URL_DIRECT: reaches the primary (database " + db + ") with no transaction pooler between"},
			"", ""},
		{"behind the pooler, DATABASE_POOLER unset",
			map[string]string{"DATABASE_URL": pooled},
			[]string{"✓ DATABASE_URL: Postgres answers; the schema is current"},
			"✗ DATABASE_POOLER: DATABASE_URL goes through a transaction pooler (two sessions were both served by Postgres backend ",
			"set DATABASE_POOLER=transaction and DATABASE_URL_DIRECT to the primary's own address"},
		{"behind the pooler, named statements asked for",
			map[string]string{"DATABASE_URL": pooled + "&default_query_exec_mode=cache_statement", "DATABASE_POOLER": "transaction", "DATABASE_URL_DIRECT": direct},
			[]string{"✓ DATABASE_URL_DIRECT: reaches the primary"},
			"✗ DATABASE_POOLER: DATABASE_URL asks pgx for cache_statement, but the pooler does not carry named prepared statements (",
			"remove default_query_exec_mode from DATABASE_URL"},
		{"the direct URL is a pooler's too",
			map[string]string{"DATABASE_URL": pooled, "DATABASE_POOLER": "transaction", "DATABASE_URL_DIRECT": pooled + "&application_name=direct"},
			[]string{"✓ DATABASE_POOLER: transaction: DATABASE_URL goes through a transaction pooler"},
			"✗ DATABASE_URL_DIRECT: goes through a transaction pooler too (",
			"migrations hold session-level advisory locks"},
		{"no pooler, transaction settings",
			map[string]string{"DATABASE_POOLER": "transaction", "DATABASE_URL_DIRECT": direct + "&application_name=direct"},
			[]string{"✓ DATABASE_POOLER: transaction, though no transaction pooler showed itself (each session kept a Postgres backend of its own)",
				"✓ DATABASE_URL_DIRECT: reaches the primary"},
			"", ""},
		{"a replica that is no standby",
			map[string]string{"DATABASE_REPLICA_URL": direct + "&application_name=replica"},
			[]string{fmt.Sprintf("✓ DATABASE_REPLICA_URL: answers, schema current (version %d), not a standby in recovery", latest)},
			"", ""},
		{"a replica that does not answer",
			map[string]string{"DATABASE_REPLICA_URL": closed},
			nil,
			"✗ DATABASE_REPLICA_URL: the read replica does not answer (reports would read the primary until it does)",
			"leave it empty to read reports from the primary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range e {
				env[k] = v
			}
			for k, v := range tt.set {
				env[k] = v
			}
			out, err := runCheck(t, env)
			for _, want := range tt.pass {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			_, fail := marks(out)
			if tt.fail == "" {
				if err != nil || len(fail) != 0 {
					t.Fatalf("check = %v, ✗ %v; want every check passed\n%s", err, fail, out)
				}
				return
			}
			var quiet exitError
			if !errors.As(err, &quiet) || len(fail) != 1 {
				t.Fatalf("check = %v, ✗ %v; want exactly one ✗ line\n%s", err, fail, out)
			}
			i := strings.Index(out, tt.fail)
			if i < 0 {
				t.Fatalf("output lacks %q:\n%s", tt.fail, out)
			}
			advice := strings.SplitN(out[i:], "\n", 3)[1]
			if !strings.HasPrefix(advice, "    → ") || !strings.Contains(advice, tt.fix) {
				t.Errorf("advice = %q, want it to say %q", advice, tt.fix)
			}
		})
	}
}
