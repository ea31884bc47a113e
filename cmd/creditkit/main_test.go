package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
)

func TestServeRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"database url unset", map[string]string{"WHOP_API_KEY": "k", "WHOP_APP_ID": "app_a", "WHOP_COMPANY_ID": "biz_a", "WHOP_WEBHOOK_SECRET": "s"},
			[]string{"config: DATABASE_URL: is required: a Postgres URL such as postgres://user:pass@localhost:5432/creditkit (see .env.example; to run against the local Whop sandbox instead, use make dev, which sets it)"}},
		{"port abc", map[string]string{"PORT": "abc", "DATABASE_URL": "postgres://localhost/x", "WHOP_API_KEY": "k", "WHOP_APP_ID": "app_a", "WHOP_COMPANY_ID": "biz_a", "WHOP_WEBHOOK_SECRET": "s"},
			[]string{`config: PORT: expected a port number from 1 to 65535, got "abc"`}},
		{"both", map[string]string{"PORT": "abc", "WHOP_API_KEY": "k", "WHOP_APP_ID": "app_a", "WHOP_COMPANY_ID": "biz_a", "WHOP_WEBHOOK_SECRET": "s"},
			[]string{`config: PORT: expected a port number from 1 to 65535, got "abc"`, "config: DATABASE_URL: is required: a Postgres URL such as postgres://user:pass@localhost:5432/creditkit (see .env.example; to run against the local Whop sandbox instead, use make dev, which sets it)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			var quiet exitError
			if !errors.As(err, &quiet) {
				t.Fatalf("run error = %v, want an already-reported exitError", err)
			}
			got := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("stderr lines:\n%s\nwant:\n%s", stderr.String(), strings.Join(tt.want, "\n"))
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(stderr.String(), `unknown command "frobnicate"`) || !strings.Contains(stderr.String(), "creditkit serve") {
		t.Fatalf("err=%v stderr=%q", err, stderr.String())
	}
}

func TestMigrateCommands(t *testing.T) {
	db := pgtest.NewEmpty(t)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return db.URL
		}
		return ""
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "version"}, "version 0 of "},
		{[]string{"migrate", "up"}, ", dirty=false"},
		{[]string{"migrate", "down", "1"}, ", dirty=false"},
		{[]string{"migrate", "up"}, ", dirty=false"},
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), s.args, getenv, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v (%s)", s.args, err, stderr.String())
		}
		if !strings.Contains(stdout.String(), s.want) {
			t.Fatalf("%v printed %q, want it to contain %q", s.args, stdout.String(), s.want)
		}
	}
	var stdout, stderr bytes.Buffer
	run(context.Background(), []string{"migrate", "version"}, getenv, &stdout, &stderr)
	var v, latest int
	fmt.Sscanf(stdout.String(), "version %d of %d", &v, &latest)
	if v == 0 || v != latest {
		t.Fatalf("after up, version %q is not the latest", stdout.String())
	}
	if err := run(context.Background(), []string{"migrate", "down", "zero"}, getenv, &stdout, &stderr); err == nil {
		t.Fatal("migrate down zero must fail")
	}
}

// TestShutdownFinishesInFlightRequest cancels the server's context (what
// SIGTERM does) while a slow request runs: the request must complete and
// serveUntilDone must return nil.
func TestShutdownFinishesInFlightRequest(t *testing.T) {
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(700 * time.Millisecond)
		io.WriteString(w, "finished")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveUntilDone(ctx, srv, ln, 5*time.Second, slog.New(slog.DiscardHandler)) }()

	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{string(b), err}
	}()
	<-started
	cancel()
	res := <-resc
	if res.err != nil || res.body != "finished" {
		t.Fatalf("in-flight request = %q, %v; want it to finish", res.body, res.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("serveUntilDone = %v, want nil", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

// TestSIGTERMExitsZero runs the real binary against a real database, sends
// SIGTERM while a request is still uploading its body, and expects that
// request answered and the process to exit 0.
func TestSIGTERMExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	db := pgtest.NewEmpty(t)
	bin := filepath.Join(t.TempDir(), "creditkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	port := freeport.For(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+db.URL, fmt.Sprintf("PORT=%d", port), "WHOP_API_KEY=k", "WHOP_APP_ID=app_test",
		"WHOP_COMPANY_ID=biz_test", "WHOP_WEBHOOK_SECRET=ws_test", "APP_ENV=development")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitReady(t, base+"/readyz")

	// A slow upload: the body trickles in over ~1 s, so the request is in
	// flight when SIGTERM arrives. A write to the pipe returns once the
	// client has taken the byte for the connection: SIGTERM goes after the
	// second, so the request is known to be under way, not assumed to be
	// after a sleep.
	pr, pw := io.Pipe()
	wrote := make(chan struct{}, 5)
	go func() {
		for i := 0; i < 5; i++ {
			time.Sleep(200 * time.Millisecond)
			pw.Write([]byte(`{"x":1}`[i%7 : i%7+1]))
			wrote <- struct{}{}
		}
		pw.Close()
	}()
	resc := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/webhook", pr)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			resc <- -1
			return
		}
		resp.Body.Close()
		resc <- resp.StatusCode
	}()
	for range 2 {
		select {
		case <-wrote:
		case <-time.After(10 * time.Second):
			t.Fatalf("the upload never got under way; logs:\n%s", logs.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The webhook route reads the whole body before checking the signature,
	// so a 401 proves the request was served to the end after SIGTERM.
	if code := <-resc; code != http.StatusUnauthorized {
		t.Fatalf("in-flight webhook got %d, want 401 after its whole body arrived; logs:\n%s", code, logs.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v; logs:\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "shutting down") || !strings.Contains(logs.String(), "stopped") {
		t.Errorf("logs do not show a graceful shutdown:\n%s", logs.String())
	}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
}

// syncBuf is a bytes.Buffer safe to read while the server writes to it
// (its tests watch stdout and stderr for what serve prints).
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
