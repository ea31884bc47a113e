package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPortsFromFlagsAndVariables(t *testing.T) {
	tests := []struct {
		name                string
		args                []string
		env                 map[string]string
		app, sandbox, relay int
	}{
		{"defaults", nil, nil, 3000, 8003, 8004},
		{"variables", nil, map[string]string{"APP_PORT": "3100", "SANDBOX_PORT": "8103", "RELAY_PORT": "8104"}, 3100, 8103, 8104},
		{"a flag beats its variable", []string{"-app-port", "3200", "-relay-port", "8204"},
			map[string]string{"APP_PORT": "3100", "SANDBOX_PORT": "8103"}, 3200, 8103, 8204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePorts(tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if p.app.port != tt.app || p.sandbox.port != tt.sandbox || p.relay.port != tt.relay {
				t.Fatalf("ports = %d %d %d, want %d %d %d", p.app.port, p.sandbox.port, p.relay.port, tt.app, tt.sandbox, tt.relay)
			}
			if p.app.addr() != "127.0.0.1:"+strconv.Itoa(tt.app) || p.sandbox.url() != "http://localhost:"+strconv.Itoa(tt.sandbox) {
				t.Fatalf("addr %s, url %s", p.app.addr(), p.sandbox.url())
			}
		})
	}
}

// TestPoolerOption: POOLER=1 or -pooler puts PgBouncer in front of the
// project-local cluster, on a port of its own that moves like the others
// and is checked like them; without it there is no fourth port.
func TestPoolerOption(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		on   bool
		port int
	}{
		{"off by default", nil, nil, false, 54330},
		{"the variable", nil, map[string]string{"POOLER": "1"}, true, 54330},
		{"the flag, on another port", []string{"-pooler", "-pooler-port", "6500"}, nil, true, 6500},
		{"the port's variable", nil, map[string]string{"POOLER": "true", "POOLER_PORT": "6501"}, true, 6501},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePorts(tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if p.withPooler != tt.on || p.pooler.port != tt.port || len(p.all()) != map[bool]int{false: 3, true: 4}[tt.on] {
				t.Errorf("pooler %t on %d, %d ports checked; want %t on %d", p.withPooler, p.pooler.port, len(p.all()), tt.on, tt.port)
			}
		})
	}
	db := devDB{url: "postgres://postgres@127.0.0.1:54330/creditkit", direct: "postgres://postgres@127.0.0.1:54329/creditkit"}
	want := []string{"DATABASE_URL=postgres://postgres@127.0.0.1:54330/creditkit",
		"DATABASE_URL_DIRECT=postgres://postgres@127.0.0.1:54329/creditkit", "DATABASE_POOLER=transaction"}
	if got := db.env(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the app's database settings behind the pooler = %v, want %v", got, want)
	}
	if got := (devDB{url: "postgres://x/db"}).env(); len(got) != 1 || got[0] != "DATABASE_URL=postgres://x/db" {
		t.Errorf("without the pooler = %v", got)
	}
}

func TestPortsRefused(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"APP_PORT": "http"}, `APP_PORT="http": want a port number from 1 to 65535`},
		{nil, map[string]string{"RELAY_PORT": "70000"}, `RELAY_PORT="70000": want a port number`},
		{[]string{"-sandbox-port", "-1"}, nil, "-sandbox-port -1: want a port number"},
		{[]string{"-relay-port", "3000"}, nil, "the app and the sandbox's relay to the app are both given port 3000"},
		{[]string{"serve"}, nil, `unexpected argument "serve"`},
		{nil, map[string]string{"POOLER": "maybe"}, `POOLER="maybe": want 1 to run the app through PgBouncer, or 0`},
		{[]string{"-pooler", "-pooler-port", "3000"}, nil, "the app and PgBouncer in front of the project-local Postgres are both given port 3000"},
	} {
		_, err := parsePorts(tt.args, env(tt.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parsePorts(%v, %v) = %v, want %q", tt.args, tt.env, err, tt.want)
		}
	}
}

// TestPortClashNamesThePortAndTheWayOut: a port another program holds
// stops make dev before it starts anything, with the port, what needs it
// and how to choose another.
func TestPortClashNamesThePortAndTheWayOut(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	free := freeport.For(t)
	p, err := parsePorts([]string{"-app-port", strconv.Itoa(free), "-sandbox-port", strconv.Itoa(port),
		"-relay-port", strconv.Itoa(freeport.For(t))}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = dev(context.Background(), p, env(nil), io.Discard, io.Discard)
	var inUse *PortInUseError
	if !errors.As(err, &inUse) || inUse.Port.port != port {
		t.Fatalf("dev = %v, want a PortInUseError for %d", err, port)
	}
	want := "port " + strconv.Itoa(port) + " is already in use on 127.0.0.1 (the sandbox's page and API listens there; " +
		"is another `make dev` running?). Stop what uses it, or pick another port: make dev SANDBOX_PORT=" +
		strconv.Itoa(port+100) + " (or go run ./cmd/devstack -sandbox-port " + strconv.Itoa(port+100) + ")"
	if err.Error() != want {
		t.Fatalf("message:\n%s\nwant:\n%s", err, want)
	}
}

// TestHoldKeepsPortsTaken: what .ci/run starts for the whole test run
// holds its ports, answers 503 saying why, and lets go when stopped.
func TestHoldKeepsPortsTaken(t *testing.T) {
	port := strconv.Itoa(freeport.For(t))
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- holdCmd(ctx, []string{port}, &out) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "holding") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := net.Listen("tcp", "127.0.0.1:"+port); err == nil {
		t.Fatalf("port %s is free while held", port)
	}
	res, err := http.Get("http://127.0.0.1:" + port + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("held port answered %d, want 503", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatalf("port %s still taken after hold stopped: %v", port, err)
	}
	ln.Close()
}

// syncBuffer is a bytes.Buffer safe to read while another goroutine writes.
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
