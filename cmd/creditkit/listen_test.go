package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/config"
	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
)

// TestServeUnderMakeDev: as make dev starts it (-host 127.0.0.1, the
// sandbox's origins set), the server listens on loopback only and prints
// the URL to open, the sandbox's page, not its own address, whose pages
// answer nothing useful without Whop's token.
func TestServeUnderMakeDev(t *testing.T) {
	db := pgtest.NewEmpty(t)
	port := freeport.For(t)
	vars := map[string]string{
		"DATABASE_URL": db.URL, "PORT": fmt.Sprint(port), "APP_ENV": "development",
		"SANDBOX_ORIGINS": "http://localhost:18003,http://localhost:18004",
		"WHOP_API_KEY":    "k", "WHOP_APP_ID": "app_test", "WHOP_COMPANY_ID": "biz_test", "WHOP_WEBHOOK_SECRET": "ws_test",
		// Nothing here may reach the network: Whop is a closed local port
		// and no worker runs the reconciler.
		"WHOP_BASE_URL": "http://127.0.0.1:1/api/v1", "WHOP_USER_TOKEN_JWKS_URL": "http://127.0.0.1:1/jwks", "WORKERS": "0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuf
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-host", "127.0.0.1"}, func(k string) string { return vars[k] }, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, stderr.String())
		}
	}()
	want := fmt.Sprintf("creditkit listening on 127.0.0.1:%d; open http://localhost:18003 to use it through the Whop sandbox\n", port)
	deadline := time.Now().Add(30 * time.Second)
	for stdout.String() != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := stdout.String(); got != want {
		t.Fatalf("stdout = %q, want %q (stderr: %s)", got, want, stderr.String())
	}
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz on loopback = %d", res.StatusCode)
	}
	// Loopback only: the machine's other addresses refuse the connection.
	addrs, _ := net.InterfaceAddrs()
	tried := 0
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
			continue
		}
		tried++
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), fmt.Sprint(port)), 2*time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("the server answers on %s, not only on loopback", ipn.IP)
		}
	}
	t.Logf("checked %d non-loopback address(es)", tried)
}

// TestListeningLineOutsideTheSandbox: elsewhere the line gives the listen
// address and where members open the app, never a localhost URL.
func TestListeningLineOutsideTheSandbox(t *testing.T) {
	cfg := loadTestConfig(t, map[string]string{"APP_URL": "https://creditkit.apps.whop.com"})
	addr := &net.TCPAddr{IP: net.IPv6zero, Port: 3000}
	if got, want := listeningLine(cfg, addr), "creditkit listening on [::]:3000; members open it inside Whop, which serves it at https://creditkit.apps.whop.com"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	cfg = loadTestConfig(t, nil)
	if got := listeningLine(cfg, addr); strings.Contains(got, "http://") || !strings.Contains(got, "members open it inside Whop") {
		t.Errorf("line = %q", got)
	}
}

func loadTestConfig(t *testing.T, extra map[string]string) *config.Config {
	t.Helper()
	vars := map[string]string{"DATABASE_URL": "postgres://localhost/x", "WHOP_API_KEY": "k", "WHOP_APP_ID": "app_a",
		"WHOP_COMPANY_ID": "biz_a", "WHOP_WEBHOOK_SECRET": "s"}
	for k, v := range extra {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
