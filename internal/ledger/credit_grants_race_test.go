package ledger_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestGrantInvariantsAreTheDatabases: whatever writes to the tables, the
// database refuses a grant spent and expired beyond its credits, a counter
// going back, a grant rewritten or deleted, an expiry before its time or
// without its entry, and a spend's record of grants rewritten.
func TestGrantInvariantsAreTheDatabases(t *testing.T) {
	b := setup(t)
	b.buy(t, "pur_a", "user_1", 100)
	b.grant(t, "grt_1", "user_1", 50, time.Now().Add(time.Hour))
	expiring := time.Now().Add(soon)
	b.grant(t, "grt_2", "user_2", 40, expiring)
	if _, err := b.spend(t, "user_1", 20, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.spend(t, "user_2", 15, "k2"); err != nil {
		t.Fatal(err)
	}
	b.waitPast(t, expiring)
	if _, err := b.store.ExpireGrant(b.ctx, "grt_2"); err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name, sql, code string
	}{
		{"spent beyond the credits", `UPDATE credit_grants SET spent = 51 WHERE id = 'grt_1'`, "23514"},
		{"spent going back", `UPDATE credit_grants SET spent = 19 WHERE id = 'grt_1'`, "23514"},
		{"a grant's credits rewritten", `UPDATE credit_grants SET credits = 500 WHERE id = 'grt_1'`, "23001"},
		{"a grant's reason rewritten", `UPDATE credit_grants SET reason = 'other' WHERE id = 'grt_1'`, "23001"},
		{"a grant deleted", `DELETE FROM credit_grants WHERE id = 'grt_1'`, "23001"},
		{"expired before its time", `UPDATE credit_grants SET expired = 30, expired_at = now() WHERE id = 'grt_1'`, "23514"},
		{"spent after its expiry", `UPDATE credit_grants SET spent = spent + 1 WHERE id = 'grt_2'`, "23514"},
		{"expired twice", `UPDATE credit_grants SET expired = 0, expiry_entry_id = NULL WHERE id = 'grt_2'`, "23001"},
		{"spend records rewritten", `UPDATE grant_spends SET amount = 1`, "23001"},
		{"spend records deleted", `DELETE FROM grant_spends`, "23001"},
		{"a positive expiry entry", `INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
			SELECT wallet_id, 'expiry', 5, 0, 'x', 'x' FROM credit_grants WHERE id = 'grt_1'`, "23514"},
		{"a grant without its entry", `INSERT INTO credit_grants (id, wallet_id, experience_id, user_id, company_id, credits, reason,
			granted_by, granted_by_company, idempotency_key, ledger_entry_id)
			SELECT 'grt_x', wallet_id, 'exp_1', 'user_1', 'biz_1', 999, 'r', 'user_a', 'biz_1', 'kx', ledger_entry_id
			  FROM credit_grants WHERE id = 'grt_1'`, "23514"},
		{"a grant born expired", `INSERT INTO credit_grants (id, wallet_id, experience_id, user_id, company_id, credits, reason,
			expires_at, granted_by, granted_by_company, idempotency_key, ledger_entry_id)
			SELECT 'grt_y', wallet_id, 'exp_1', 'user_1', 'biz_1', 50, 'r', now() - interval '1 hour', 'user_a', 'biz_1', 'ky',
			       ledger_entry_id FROM credit_grants WHERE id = 'grt_1'`, "23514"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.db.Pool.Exec(b.ctx, c.sql)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != c.code {
				t.Fatalf("%s: err = %v, want SQLSTATE %s", c.sql, err, c.code)
			}
		})
	}
	// Expiring by hand, with its entry, before the job: refused too when
	// it would leave credits unaccounted for (spent 20 + expired 20 < 50).
	err := pgx.BeginFunc(b.ctx, b.db.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(b.ctx, `UPDATE credit_grants SET expired = 20, expired_at = expires_at WHERE id = 'grt_1'`)
		return err
	})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23514" {
		t.Fatalf("a partial expiry: %v", err)
	}
	if g := b.grantState(t, "grt_1"); g.Spent != 20 || g.Expired != 0 || g.Credits != 50 {
		t.Errorf("grant after the refusals = %+v", g)
	}
	if g := b.grantState(t, "grt_2"); g.Spent != 15 || g.Expired != 25 {
		t.Errorf("expired grant after the refusals = %+v", g)
	}
}

// TestExpiryRacingASpendOfTheSameCreditsKeepsTheBooks: a spend and the
// expiry of the grant it would use meet on the wallet's row lock. A third
// transaction holds the lock while both queue behind it, in the three
// orders that matter; when it lets go, one of them wins the grant's
// credits and the other sees it: the grant is spent and expired to exactly
// its credits, and the balance is the sum of the entries. Run with -race.
func TestExpiryRacingASpendOfTheSameCreditsKeepsTheBooks(t *testing.T) {
	b := setup(t)
	orders := []struct {
		name string
		// spendFirst: the spend queues before the expiry; spendBefore:
		// it starts before the grant's expiry time.
		spendFirst, spendBefore bool
		bought                  int64
		// What each outcome leaves.
		spendOK     bool
		spent, took int64
	}{
		{"spend before expiry time, queued first", true, true, 0, true, 30, 20},
		{"expiry queued first, spend after", false, false, 0, false, 0, 50},
		{"both after expiry time, spend queued first", true, false, 0, false, 0, 50},
		{"with bought credits: spend before expiry time", true, true, 100, true, 30, 20},
		{"with bought credits: expiry queued first", false, false, 100, true, 0, 50},
		{"with bought credits: both after, spend first", true, false, 100, true, 0, 50},
	}
	// A few rounds here; for many, run
	// go test ./internal/ledger -run TestExpiryRacing -race -count=20
	const rounds = 2
	for round := range rounds {
		for i, o := range orders {
			t.Run(fmt.Sprintf("%d/%s", round, o.name), func(t *testing.T) {
				id := fmt.Sprintf("%dx%d", round, i)
				user, grt := "user_"+id, "grt_"+id
				if o.bought > 0 {
					b.buy(t, "pur_"+id, user, o.bought)
				}
				// Far enough ahead that, on a loaded machine (a fresh
				// connection, a cold cache), the grant is recorded and a
				// spend meant to start before it does.
				ahead := time.Second
				if o.spendBefore {
					ahead = 3 * time.Second
				}
				expires := time.Now().Add(ahead)
				b.grant(t, grt, user, 50, expires)

				hold, err := b.db.Pool.Begin(b.ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer hold.Rollback(b.ctx)
				if _, err := hold.Exec(b.ctx, `SELECT 1 FROM wallets WHERE user_id = $1 FOR UPDATE`, user); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				var spendErr, expireErr error
				var x ledger.Expiry
				waiting := 0
				spend := func() {
					wg.Add(1)
					done := make(chan struct{})
					go func() {
						defer wg.Done()
						defer close(done)
						_, spendErr = b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: user,
							ItemID: "item", Title: "Item", Cost: 30, IdempotencyKey: "k"})
					}()
					// A spend that its own snapshot already shows cannot be
					// paid (the grant due, nothing bought) is refused without
					// waiting for the row.
					if !o.spendBefore && o.bought == 0 {
						<-done
						return
					}
					waiting++
					b.waitForLockWaiters(t, waiting)
				}
				expire := func() {
					wg.Add(1)
					go func() {
						defer wg.Done()
						x, expireErr = b.store.ExpireGrant(b.ctx, grt)
					}()
					waiting++
					b.waitForLockWaiters(t, waiting)
				}
				if o.spendBefore {
					spend()
					b.waitPast(t, expires)
					expire()
				} else {
					b.waitPast(t, expires)
					if o.spendFirst {
						spend()
						expire()
					} else {
						expire()
						spend()
					}
				}
				if err := hold.Commit(b.ctx); err != nil {
					t.Fatal(err)
				}
				wg.Wait()

				if expireErr != nil || x.Taken != o.took {
					t.Errorf("expiry = %+v, %v; want %d taken", x, expireErr, o.took)
				}
				if o.spendOK != (spendErr == nil) || (spendErr != nil && !errors.Is(spendErr, ledger.ErrInsufficientCredits)) {
					t.Errorf("spend: %v, want ok=%t", spendErr, o.spendOK)
				}
				g := b.grantState(t, grt)
				if g.Spent != o.spent || g.Expired != o.took || g.Spent+g.Expired != g.Credits {
					t.Errorf("grant = spent %d expired %d of %d; want spent %d expired %d", g.Spent, g.Expired, g.Credits, o.spent, o.took)
				}
				want := o.bought + 50 - o.took
				if o.spendOK {
					want -= 30
				}
				if bal, _ := b.store.Balance(b.ctx, "exp_1", user); bal != want {
					t.Errorf("balance = %d, want %d", bal, want)
				}
			})
		}
	}
}

// waitForLockWaiters waits until n statements of this test's database wait
// for a lock.
func (b *bundle) waitForLockWaiters(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var got int
		if err := b.db.Pool.QueryRow(b.ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			rows, _ := b.db.Pool.Query(b.ctx, `SELECT state, COALESCE(wait_event_type, ''), COALESCE(wait_event, ''), left(query, 60)
				FROM pg_stat_activity WHERE datname = current_database()`)
			seen, _ := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ State, Type, Event, Query string }])
			t.Fatalf("%d statements wait for a lock, want %d; the database's sessions: %+v", got, n, seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
