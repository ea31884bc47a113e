package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/migrations"
	"github.com/prometheus/client_golang/prometheus"
)

// stalledBilling answers the access check only when the request ends, with
// the error a real Whop call gives then: the context's, wrapped.
type stalledBilling struct {
	Access
	entered chan struct{}
}

func (b stalledBilling) ExperienceAccess(ctx context.Context, userID, experienceID string) error {
	close(b.entered)
	<-ctx.Done()
	return fmt.Errorf("billing: access check: %w", ctx.Err())
}

type userOneToken struct{}

func (userOneToken) Verify(ctx context.Context, raw string) (*whop.UserToken, error) {
	return &whop.UserToken{UserID: "user_1", AppID: "app_test"}, nil
}

// stalledReady answers readiness only when the request ends.
type stalledReady struct{ entered chan struct{} }

func (s stalledReady) Ready(ctx context.Context) (migrations.Status, error) {
	close(s.entered)
	<-ctx.Done()
	return migrations.Status{}, ctx.Err()
}

// syncBuf is a log sink safe for the server's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestClientCloseIsNotAServerError: a client that hangs up while its
// request waits on a dependency is recorded as 499 at INFO, in the request
// log and the metrics, and nothing is logged as an error or warning; before,
// the wrapped "context canceled" became an ERROR "internal error" and a 500.
func TestClientCloseIsNotAServerError(t *testing.T) {
	for _, tt := range []struct {
		name, path, route string
		deps              func(entered chan struct{}) Deps
	}{
		{"a page waiting on Whop", "/experiences/exp_1", "/experiences/{experienceId}", func(entered chan struct{}) Deps {
			return Deps{Tokens: userOneToken{}, Billing: Billing{Access: stalledBilling{entered: entered}}}
		}},
		{"readiness waiting on the database", "/readyz", "/readyz", func(entered chan struct{}) Deps {
			return Deps{Ready: stalledReady{entered: entered}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuf
			entered := make(chan struct{})
			d := tt.deps(entered)
			d.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			d.Registry = prometheus.NewRegistry()
			d.Settings = Settings{AppID: "app_test"}
			s := New(d)
			srv := httptest.NewServer(s)
			defer srv.Close()

			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+tt.path, nil)
			req.Header.Set(whop.HeaderUserToken, "token")
			errc := make(chan error, 1)
			go func() {
				res, err := http.DefaultClient.Do(req)
				if err == nil {
					res.Body.Close()
				}
				errc <- err
			}()
			select {
			case <-entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the request never reached the dependency")
			}
			cancel() // the client hangs up
			if err := <-errc; err == nil {
				t.Fatal("the client got an answer after hanging up")
			}
			var rec map[string]any
			deadline := time.Now().Add(5 * time.Second)
			for rec == nil && time.Now().Before(deadline) {
				for _, line := range strings.Split(logs.String(), "\n") {
					var m map[string]any
					if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" {
						rec = m
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
			if rec == nil {
				t.Fatalf("no request log line:\n%s", logs.String())
			}
			if rec["level"] != "INFO" || rec["status"] != float64(499) || rec["route"] != tt.route {
				t.Errorf("request log = %v, want INFO, status 499, route %s", rec, tt.route)
			}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
					t.Errorf("alarming log line: %s", line)
				}
			}
			if got, want := requestSeries(t, d.Registry), map[string]float64{tt.route + " GET 499": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("creditkit_http_requests_total = %v, want %v", got, want)
			}
		})
	}
}

// requestSeries reads creditkit_http_requests_total as "route method status" → count.
func requestSeries(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "creditkit_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["route"]+" "+labels["method"]+" "+labels["status"]] = m.GetCounter().GetValue()
		}
	}
	return out
}
