package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz says the process is alive; it touches nothing else, so a slow
// database never gets a healthy process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether to send traffic here: the database answers and its
// schema is at the version this binary was built for.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "no database configured"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready.Ready(ctx); err != nil {
		if clientGone(r) {
			writeJSON(w, errClientClosed.status, map[string]any{"error": errClientClosed.body()})
			return
		}
		// The log has the details; the probe's answer names the kind of
		// problem only, since database errors can carry host names.
		s.log.WarnContext(r.Context(), "not ready", slog.String("error", err.Error()))
		reason := "database unreachable"
		if errors.Is(err, ledger.ErrSchemaNotCurrent) {
			reason = "database schema is not at this binary's migration version"
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": reason})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError)})
}
