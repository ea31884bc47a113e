package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
)

// healthcheck runs `creditkit healthcheck args…` for PORT=port.
func healthcheck(port int, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"healthcheck"}, args...),
		func(k string) string {
			if k == "PORT" {
				return strconv.Itoa(port)
			}
			return ""
		}, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// TestHealthcheckExitStatus runs the real server in-process: the probe
// exits 0 while it is up and ready, non-zero while it is up but its schema
// is behind (/readyz 503; /healthz still 0), and non-zero once it is down.
func TestHealthcheckExitStatus(t *testing.T) {
	for _, migrated := range []bool{true, false} {
		t.Run(fmt.Sprintf("migrated=%t", migrated), func(t *testing.T) {
			db := pgtest.NewEmpty(t)
			port := freeport.For(t)
			env := map[string]string{"DATABASE_URL": db.URL, "PORT": strconv.Itoa(port), "WHOP_API_KEY": "k",
				"WHOP_APP_ID": "app_test", "WHOP_COMPANY_ID": "biz_test", "WHOP_WEBHOOK_SECRET": "ws_test", "WORKERS": "0"}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"serve", "-migrate=" + strconv.FormatBool(migrated)},
					func(k string) string { return env[k] }, io.Discard, io.Discard)
			}()
			waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/healthz", port))

			out, errOut, err := healthcheck(port)
			if migrated {
				if err != nil || out != fmt.Sprintf("healthcheck: http://127.0.0.1:%d/readyz ok\n", port) || errOut != "" {
					t.Fatalf("up and ready: err %v, stdout %q, stderr %q", err, out, errOut)
				}
			} else {
				var quiet exitError
				if !errors.As(err, &quiet) || !strings.Contains(errOut, "/readyz answered 503") {
					t.Fatalf("up, schema behind: err %v, stderr %q; want exit non-zero on 503", err, errOut)
				}
				if _, _, err := healthcheck(port, "-path=/healthz"); err != nil {
					t.Fatalf("liveness while the schema is behind: %v", err)
				}
			}

			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
			_, errOut, err = healthcheck(port)
			var quiet exitError
			if !errors.As(err, &quiet) || !strings.Contains(errOut, "connection refused") {
				t.Fatalf("down: err %v, stderr %q; want a non-zero exit naming the refused connection", err, errOut)
			}
		})
	}
}

func TestHealthcheckRefusesABadPort(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"healthcheck"}, func(k string) string {
		if k == "PORT" {
			return "http"
		}
		return ""
	}, io.Discard, &stderr)
	if err == nil || stderr.String() != "healthcheck: PORT \"http\" is not a port\n" {
		t.Fatalf("err %v, stderr %q", err, stderr.String())
	}
}
