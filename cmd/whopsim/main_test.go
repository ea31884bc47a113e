package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
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

// TestPortZeroPublishesThePortsListenedOn: with --addr and --relay-addr
// leaving the ports to the system, the banner and the sandbox's own
// environment (what `whopsim env` prints) name the ports it got, and both
// answer there.
func TestPortZeroPublishesThePortsListenedOn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--relay-addr", "127.0.0.1:0",
			"--app", "http://" + freeAddr(t), "--webhook-url", "off"}, &out, &out)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("run did not stop")
		}
	}()
	open := regexp.MustCompile(`Open +http://127\.0\.0\.1:(\d+)/`)
	relay := regexp.MustCompile(`framed through the relay at http://127\.0\.0\.1:(\d+)`)
	var m, r []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m, r = open.FindStringSubmatch(out.String()), relay.FindStringSubmatch(out.String()); m != nil && r != nil &&
			strings.Contains(out.String(), "PREMIUM_PLAN_ID") {
			break
		}
	}
	if m == nil || r == nil || m[1] == "0" || r[1] == "0" || strings.Contains(out.String(), ":0/") {
		t.Fatalf("banner does not name the ports listened on:\n%s", out.String())
	}
	base := "http://127.0.0.1:" + m[1]
	if !strings.Contains(out.String(), "WHOP_BASE_URL="+base+"/api/v1") {
		t.Errorf("banner's environment does not use %s:\n%s", base, out.String())
	}
	res, err := http.Get(base + "/_sim/env")
	if err != nil {
		t.Fatalf("the published sandbox URL does not answer: %v", err)
	}
	var env struct {
		SandboxURL string `json:"sandbox_url"`
		RelayURL   string `json:"relay_url"`
		APIBaseURL string `json:"api_base_url"`
	}
	json.NewDecoder(res.Body).Decode(&env)
	res.Body.Close()
	wantRelay := "http://127.0.0.1:" + r[1]
	if env.SandboxURL != base || env.APIBaseURL != base+"/api/v1" || env.RelayURL != wantRelay {
		t.Errorf("env = %+v, want %s and the relay at %s", env, base, wantRelay)
	}
	if res, err := http.Get(wantRelay + "/discover"); err != nil || res.StatusCode != http.StatusBadGateway {
		t.Errorf("the published relay URL: %v %v, want the relay's 502 with no app", res, err)
	} else {
		res.Body.Close()
	}
}
