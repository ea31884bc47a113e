package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/creditkit/creditkit/migrations"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz says the process is alive; it touches nothing else, so a slow
// database never gets a healthy process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, readyAnswer{Status: "ok"})
}

// readyz says whether to send traffic here: the database answers and both
// schemas, the app's and River's, are at the versions this binary was built
// for. It reports the versions it found.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready == nil {
		writeJSON(w, http.StatusServiceUnavailable, readyAnswer{Status: "unavailable", Error: "no database configured"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	st, err := s.ready.Ready(ctx)
	if err != nil {
		if clientGone(r) {
			writeJSON(w, errClientClosed.status, errorReply{Error: errClientClosed.body()})
			return
		}
		// The log has the details; the probe's answer names the kind of
		// problem only, since database errors can carry host names.
		s.log.WarnContext(r.Context(), "not ready", slog.String("error", err.Error()))
		if errors.Is(err, migrations.ErrNotCurrent) {
			writeJSON(w, http.StatusServiceUnavailable, readyAnswer{Status: "unavailable",
				Error: "database schema is not at this binary's migration version", Schema: schemaOf(st)})
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, readyAnswer{Status: "unavailable", Error: "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, readyAnswer{Status: "ready", Schema: schemaOf(st)})
}

// readyAnswer is /healthz's and /readyz's body.
type readyAnswer struct {
	Status string       `json:"status"`
	Error  string       `json:"error,omitempty"`
	Schema *schemaState `json:"schema,omitempty"`
}

// schemaState is where both schemas stand: applied and wanted.
type schemaState struct {
	Version     uint `json:"version"`
	Latest      uint `json:"latest"`
	Dirty       bool `json:"dirty"`
	River       uint `json:"river_version"`
	RiverLatest uint `json:"river_latest"`
}

func schemaOf(st migrations.Status) *schemaState {
	return &schemaState{Version: st.Version, Latest: st.Latest, Dirty: st.Dirty, River: st.River, RiverLatest: st.RiverLatest}
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError)})
}
