package main

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
)

func TestPrintEnv(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--print-env"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	wantPrefixes := []string{"WHOP_API_KEY=apik_", "WHOP_APP_ID=app_", "WHOP_COMPANY_ID=biz_", "WHOP_WEBHOOK_SECRET=ws_",
		"WHOP_BASE_URL=http://localhost:8003/api/v1", "WHOP_USER_TOKEN_JWKS_URL=http://localhost:8003/.well-known/jwks.json",
		"PREMIUM_PRODUCT_ID=prod_", "PREMIUM_PLAN_ID=plan_"}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("--print-env printed %d lines:\n%s", len(lines), out.String())
	}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(lines[i], p) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], p)
		}
	}
}

func TestFlags(t *testing.T) {
	c, err := parseFlags([]string{"--addr", ":9003", "--app", "http://127.0.0.1:5000/"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.publicURL != "http://localhost:9003" || c.relayURL != "http://localhost:8004" ||
		c.webhookURL != "http://127.0.0.1:5000/api/webhook" || c.payDelay != time.Second || c.webhookScheme != "standard" {
		t.Errorf("config = %+v", c)
	}
	c, _ = parseFlags([]string{"--webhook-url", "off"}, &bytes.Buffer{})
	if c.webhookURL != "" {
		t.Errorf("--webhook-url off = %q", c.webhookURL)
	}
	for _, bad := range [][]string{{"--nope"}, {"extra"}, {"--webhook-scheme", "x", "--print-env"}} {
		if err := run(context.Background(), bad, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("run %v succeeded", bad)
		}
	}
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string { return "127.0.0.1:" + strconv.Itoa(freeport.For(t)) }

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunServesAndStops(t *testing.T) {
	// The app is on a port nothing listens on, never the default 3000,
	// where a developer's own app may well be running.
	addr, relay, noApp := freeAddr(t), freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	began := time.Now()
	go func() {
		done <- run(ctx, []string{"--addr", addr, "--relay-addr", relay, "--app", "http://" + noApp, "--webhook-url", "off",
			"--state-file", t.TempDir() + "/state.json"}, &out, &out)
	}()
	// The banner is written in several pieces: wait for all of it. (How long
	// start-up takes is a figure for the closing note, not an assertion that
	// a loaded machine could fail.)
	want := []string{"Open       http://" + addr + "/", "@casey", "@alice", "@nina", "Premium", "WHOP_API_KEY=", "PREMIUM_PLAN_ID"}
	banner := func() (missing string) {
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				return w
			}
		}
		return ""
	}
	deadline := time.Now().Add(10 * time.Second)
	for banner() != "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("banner complete %v after start", time.Since(began))
	if m := banner(); m != "" {
		t.Fatalf("banner lacks %q:\n%s", m, out.String())
	}
	res, err := http.Get("http://" + addr + "/.well-known/jwks.json")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("jwks: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.Get("http://" + relay + "/discover")
	if err != nil || res.StatusCode != http.StatusBadGateway {
		t.Errorf("relay with no app: %v %v", res, err)
	}
	if res != nil {
		res.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}
