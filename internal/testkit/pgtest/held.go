package pgtest

import (
	"context"
	"testing"
	"time"
)

// Now is the database's clock, to compare with pg_stat_activity's times.
func (db *DB) Now(t testing.TB, ctx context.Context) time.Time {
	t.Helper()
	var now time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now
}

// HeldAcross counts the sessions on db that sit in an open transaction
// doing nothing, and have been since at least the database's instant
// since, while a call under way since then is still held: what a
// transaction held across that call would leave. Call it while the call is
// held. It waits up to 10 s for them to go, because such a transaction
// cannot end while the call is held, and others can be caught between two
// statements: River's scheduler, for one, was idle in its own transaction
// from 7 ms before since in 3 of 40 runs that looked once.
func (db *DB) HeldAcross(t testing.TB, ctx context.Context, since time.Time) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND state_change <= $1`,
			since).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}
