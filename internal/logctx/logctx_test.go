package logctx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/logctx"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestHandlerAddsRequestAndRoute(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logctx.Handler(slog.NewJSONHandler(&buf, nil)))
	route := ""
	ctx := logctx.WithRequest(context.Background(), "req-1", func() string { return route })

	log.InfoContext(ctx, "before routing") // no route known yet: none written
	route = "/api/charge"
	log.With("component", "billing").WarnContext(ctx, "in billing", "delivery_id", "d1")
	log.InfoContext(ctx, "request", "route", "unmatched", "request_id", "own") // the record's own win
	log.Info("no request")                                                     // no context: nothing added

	got := lines(t, &buf)
	if len(got) != 4 {
		t.Fatalf("got %d lines, want 4", len(got))
	}
	want := []map[string]any{
		{"msg": "before routing", "request_id": "req-1", "route": nil},
		{"msg": "in billing", "request_id": "req-1", "route": "/api/charge", "component": "billing", "delivery_id": "d1"},
		{"msg": "request", "request_id": "own", "route": "unmatched"},
		{"msg": "no request", "request_id": nil, "route": nil},
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("line %d %s = %v, want %v (%v)", i, k, got[i][k], v, got[i])
			}
		}
	}
	if n := strings.Count(buf.String(), `"route"`); n != 2 {
		t.Errorf("route written %d times, want 2 (never twice on a line):\n%s", n, buf.String())
	}
	if logctx.RequestID(ctx) != "req-1" || logctx.RequestID(context.Background()) != "" {
		t.Errorf("RequestID = %q / %q", logctx.RequestID(ctx), logctx.RequestID(context.Background()))
	}
	if h := logctx.Handler(log.Handler()); h != log.Handler() {
		t.Error("wrapping a wrapped handler added a second layer")
	}
}
