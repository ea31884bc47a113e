package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const spendFunds = 10_000_000

// rawSpendSQL is the spend's floor: the rows a spend of the 5-credit sticker
// writes (the debit of the hot wallet, conditional on its balance, its
// ledger entry and the spend) in one statement, none of the app's code.
const rawSpendSQL = `
WITH debit AS (
	UPDATE wallets SET balance = balance - 5, updated_at = now()
	 WHERE experience_id = $1 AND user_id = $2 AND balance >= 5
	RETURNING id, balance
), entry AS (
	INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
	SELECT id, 'spend', -5, balance, 'sticker', 'spend:' || $2 || ':' || $3 FROM debit
	RETURNING id, wallet_id, balance_after
)
INSERT INTO spends (wallet_id, user_id, item_id, title, cost, idempotency_key, ledger_entry_id, balance_after)
SELECT wallet_id, $2, 'sticker', 'Sticker pack', 5, $3, id, balance_after FROM entry`

// benchSpend has 64 spenders click on one hot wallet, through the app and
// by raw SQL, and counts overdrafts (there must be none).
func benchSpend(ctx context.Context, s *stack, o options, rep *report, httpc *http.Client, exp, appUser, refUser string) error {
	for _, u := range []string{appUser, refUser} {
		if err := fund(ctx, s.pool, exp, u); err != nil {
			return err
		}
	}
	token, err := s.sim.Token(appUser)
	if err != nil {
		return err
	}
	logf(o, "spend: measuring")
	var n counter
	appCall := func(ctx context.Context, _, i int) error {
		body := fmt.Sprintf(`{"experience_id":%q,"item":"sticker","idempotency_key":"app-%d"}`, exp, i)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.appURL()+"/api/spend", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(whop.HeaderUserToken, token)
		return doOK(httpc, req, `"replayed":false`)
	}
	refCall := func(ctx context.Context, _, i int) error {
		tag, err := s.pool.Exec(ctx, rawSpendSQL, exp, refUser, fmt.Sprintf("ref-%d", i))
		if err == nil && tag.RowsAffected() != 1 {
			err = fmt.Errorf("raw spend wrote %d spends", tag.RowsAffected())
		}
		return err
	}
	closed := func(do call) func(time.Duration) sample {
		return func(d time.Duration) sample { return closedLoop(ctx, 64, d, &n, do) }
	}
	m := s.meter()
	var a, r sample
	profiled(ctx, s, o, "spend", 2*(o.duration+warmUp), func() {
		a, r = interleaved(o.rounds, o.duration, true, s.metered(s.appPID, closed(appCall)), s.metered(noServer, closed(refCall)))
	})
	q := s.quietSince(m)
	app, ref := a.result(), r.result()
	var overdrafts int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE balance_after < 0`).Scan(&overdrafts); err != nil {
		return err
	}
	// Each wallet lost exactly what its recorded spends cost, and holds at
	// least as many as were answered in the measured rounds (the warm-up
	// made more).
	for _, c := range []struct {
		user     string
		answered int
	}{{appUser, app.Requests - app.Errors}, {refUser, ref.Requests - ref.Errors}} {
		var bal, spends int64
		if err := s.pool.QueryRow(ctx, `SELECT w.balance, (SELECT count(*) FROM spends WHERE wallet_id = w.id)
			FROM wallets w WHERE experience_id = $1 AND user_id = $2`, exp, c.user).Scan(&bal, &spends); err != nil {
			return err
		}
		if bal != spendFunds-5*spends || spends < int64(c.answered) {
			return fmt.Errorf("spend: balance %d after %d recorded spends of 5 (%d answered), want %d",
				bal, spends, c.answered, spendFunds-5*spends)
		}
	}
	rep.add(row{Path: "spend, one hot wallet", Load: "64 concurrent spenders", App: app, Ref: ref,
		RefName: "raw SQL: the conditional debit, its entry and the spend in one statement", Target: 0.9, NoErrors: true,
		Overdrafts: &overdrafts, Quiet: q})
	return nil
}

// fund gives a wallet credits with an adjustment entry, the way an operator
// would correct a balance: the schema requires the entry with the balance.
func fund(ctx context.Context, pool *pgxpool.Pool, exp, user string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO wallets (experience_id, user_id, balance) VALUES ($1, $2, $3) RETURNING id`,
			exp, user, spendFunds).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
			VALUES ($1, 'adjustment', $2, $2, 'bench', 'bench:fund:' || $3)`, id, spendFunds, user)
		return err
	})
}
