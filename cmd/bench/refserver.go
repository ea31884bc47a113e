package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// refServer is the experience page's reference: a bare chi handler in a
// process of its own that runs the page's queries (the same ledger calls)
// and writes JSON — no token, no access checks, no template, no middleware.
// It prints its address on stdout and serves until killed.
func refServer(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("refserver", flag.ContinueOnError)
	dbURL := fs.String("db", "", "database URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(*dbURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = 20 // as the app's pool
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := ledger.NewStore(pool)
	r := chi.NewRouter()
	// The page's database work for a member without premium: the wallet
	// view (one batch) and the premium cache's membership clock.
	r.Get("/ref/{experienceId}/{userId}", func(w http.ResponseWriter, r *http.Request) {
		user := chi.URLParam(r, "userId")
		v, err := store.WalletView(r.Context(), chi.URLParam(r, "experienceId"), user, 10)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		now, changed, err := store.MembershipClock(r.Context(), user)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"wallet": v, "db_now": now, "membership_changed": changed})
	})
	// The floor under any webhook path: read the body, answer a small JSON.
	r.Post("/noop", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	srv := &http.Server{Handler: r}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
