package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// refServer is the reference server, a process of its own as the app is:
// a bare chi router with no middleware, token, access check or template.
//
//   - POST /noop reads the body and answers the JSON the app answers a
//     repeat delivery with: the floor under any webhook path.
//   - POST /ingest/{owner}/{purchase}/{payment} is a bare receiver: it
//     reads the body, runs the ingest floor's one statement (floorSQL) for
//     the delivery named by the webhook-id header and the ids in its path,
//     and answers once it is committed. No signature, no JSON read, no app
//     code: what the HTTP hop alone costs the ingest.
//   - GET /page/{experienceId}/{userId} runs the member's page's queries
//     (the wallet batch the app runs, through the same ledger call) and
//     writes what they read as JSON: the floor under the page.
//
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
	r.Get("/page/{experienceId}/{userId}", func(w http.ResponseWriter, r *http.Request) {
		v, err := store.WalletView(r.Context(), chi.URLParam(r, "experienceId"), chi.URLParam(r, "userId"), 10)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	})
	r.Post("/ingest/{owner}/{purchase}/{payment}", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		err := floorIngest(r.Context(), pool, chi.URLParam(r, "owner"),
			delivery{id: id, purchase: chi.URLParam(r, "purchase"), payment: chi.URLParam(r, "payment")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		answerDelivery(w, id, "credited 100 credits")
	})
	r.Post("/noop", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		answerDelivery(w, r.Header.Get("webhook-id"), "duplicate")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// answerDelivery writes the JSON the app answers a webhook delivery with:
// the delivery's id and its outcome.
func answerDelivery(w http.ResponseWriter, id, outcome string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Received string `json:"received"`
		Outcome  string `json:"outcome"`
	}{id, outcome})
}

// refProcess is a running `bench refserver`.
type refProcess struct {
	url string // http://host:port
	pid int
	cmd *exec.Cmd
}

func (p *refProcess) stop() { p.cmd.Process.Kill(); p.cmd.Wait() }

// startRefServer runs `bench refserver` as its own process.
func startRefServer(ctx context.Context, dbURL string) (*refProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "refserver", "-db", dbURL)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("refserver: %w", err)
	}
	return &refProcess{url: "http://" + strings.TrimSpace(line), pid: cmd.Process.Pid, cmd: cmd}, nil
}
