package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/jackc/pgx/v5"
)

const spendFunds = 10_000_000

// benchSpend has 64 spenders click on one hot wallet, through the app and
// straight through pgx, and counts overdrafts (there must be none).
func benchSpend(ctx context.Context, s *stack, o options, rep *report, httpc *http.Client, store *ledger.Store, exp, appUser, refUser string, log io.Writer) error {
	for _, u := range []string{appUser, refUser} {
		if err := fund(ctx, s, exp, u); err != nil {
			return err
		}
	}
	token, err := s.sim.Token(appUser)
	if err != nil {
		return err
	}
	fmt.Fprintln(log, "spend: measuring")
	app := closedLoop(ctx, 64, o.duration, 0, func(ctx context.Context, w, i int) error {
		body := fmt.Sprintf(`{"experience_id":%q,"item":"sticker","idempotency_key":"app-%d"}`, exp, i)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.appURL()+"/api/spend", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(whop.HeaderUserToken, token)
		return doOK(httpc, req, `"replayed":false`)
	})
	ref := closedLoop(ctx, 64, o.duration, 0, func(ctx context.Context, w, i int) error {
		_, err := store.Spend(ctx, ledger.SpendRequest{ExperienceID: exp, UserID: refUser, ItemID: "sticker", Title: "Sticker pack", Cost: 5,
			IdempotencyKey: fmt.Sprintf("ref-%d", i)})
		return err
	})
	var overdrafts int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE balance_after < 0`).Scan(&overdrafts); err != nil {
		return err
	}
	for _, c := range []struct {
		user string
		n    int
	}{{appUser, app.Requests - app.Errors}, {refUser, ref.Requests - ref.Errors}} {
		bal, err := store.Balance(ctx, exp, c.user)
		if err != nil {
			return err
		}
		if bal != spendFunds-5*int64(c.n) {
			return fmt.Errorf("spend: balance %d after %d spends of 5, want %d", bal, c.n, spendFunds-5*int64(c.n))
		}
	}
	rep.add(row{Path: "spend, one hot wallet", Load: "64 concurrent spenders", App: app, Ref: ref,
		RefName: "the same conditional UPDATE + INSERT via pgx", Target: 0.8, NoErrors: true, Overdrafts: &overdrafts})
	return nil
}

// fund gives a wallet credits with an adjustment entry, the way an operator
// would correct a balance: the schema requires the entry with the balance.
func fund(ctx context.Context, s *stack, exp, user string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
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
