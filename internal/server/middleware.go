package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/logctx"
	"github.com/go-chi/chi/v5"
)

// requestID returns the id the request middleware gave this request.
func requestID(ctx context.Context) string { return logctx.RequestID(ctx) }

// withRequestID tags each request with an id, echoed in X-Request-Id and,
// with the route it matched, put on every log line written with its context
// (logctx.Handler), billing's too; it takes the caller's id when it looks
// like one. It runs inside the router, whose route context is already there.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !plausibleID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		route := func() string { return "" }
		if rc := chi.RouteContext(r.Context()); rc != nil {
			route = rc.RoutePattern
		}
		next.ServeHTTP(w, r.WithContext(logctx.WithRequest(r.Context(), id, route)))
	})
}

func plausibleID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// statusWriter remembers what was written, for the log and the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (flushes, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request once and counts it by route pattern. The path is
// logged without its query: Whop's dev proxy puts user tokens there. A
// request its client abandoned is recorded as 499 at INFO: nothing for an
// operator to act on.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		elapsed := time.Since(start)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := strconv.Itoa(sw.status)
		s.metrics.requests.WithLabelValues(route, r.Method, status).Inc()
		s.metrics.duration.WithLabelValues(route, r.Method, status).Observe(elapsed.Seconds())
		switch {
		case (sw.status == 0 || sw.status >= 500) && clientGone(r):
			// The client left before any answer: a client close, not a
			// server error, whatever the handler did after it.
			sw.status = statusClientClosed
		case sw.status == 0:
			sw.status = http.StatusOK
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.logLine(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", elapsed),
		)
	})
}

// recoverPanics turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec) // net/http's own way to abort a response: not ours to answer
			}
			s.log.ErrorContext(r.Context(), "panic",
				slog.String("panic", fmt.Sprint(rec)),
				slog.String("stack", string(debug.Stack())))
			s.fail(w, r, errInternal)
		}()
		next.ServeHTTP(w, r)
	})
}

// withTimeout bounds the request's context so a stuck dependency cannot hold
// a connection forever.
func withTimeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// limitBody caps request bodies; reading past the cap fails with
// *http.MaxBytesError, which the error mapper turns into a 413.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				writeJSON(w, errTooLarge.status, errorReply{Error: errTooLarge.body()})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// securityHeaders lets Whop (and the sandbox) frame the app and nobody else,
// and keeps pages to their own scripts. No X-Frame-Options: it would break
// Whop's iframe, and frame-ancestors supersedes it.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	csp := strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors " + s.frameAncestors(),
	}, "; ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		next.ServeHTTP(w, r)
	})
}

// logLine writes one record through the logger's handler with no caller
// recorded. slog.Logger's methods take the caller's program counter for
// every record (runtime.Callers), which no handler here prints (none sets
// AddSource; one that did would print an empty source for these lines); on
// the lines every request writes, that walk was 1.5 % of the
// webhook's server CPU (`make bench -profile`).
func (s *Server) logLine(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	h := s.log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec) // as slog.Logger does: a handler's error has nowhere to go
}
