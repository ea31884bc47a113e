package server

import (
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/creditkit/creditkit/internal/whop"
)

// webhook receives Whop's deliveries. Nothing is parsed before the signature
// holds; 2xx is sent only after the effect and the delivery record are
// committed together, so a failure here makes Whop deliver again.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if s.webhooks == nil || s.billing == nil {
		s.fail(w, r, errUnavailable)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(w, r, err)
			return
		}
		s.fail(w, r, newError(http.StatusBadRequest, "unreadable_body", "The request body could not be read."))
		return
	}
	ev, err := s.webhooks.Verify(r.Header, body)
	if errors.Is(err, whop.ErrMalformedEvent) {
		// The signature held: this is Whop, sending something we cannot
		// read. A 401 would say the opposite.
		s.log.ErrorContext(r.Context(), "webhook body unreadable",
			slog.String("request_id", requestID(r.Context())), slog.String("reason", err.Error()))
		s.fail(w, r, newError(http.StatusBadRequest, "malformed_event", "The webhook's signature held but its body is not a Whop event."))
		return
	}
	if err != nil {
		s.log.WarnContext(r.Context(), "webhook refused",
			slog.String("request_id", requestID(r.Context())), slog.String("reason", err.Error()))
		s.fail(w, r, newError(http.StatusUnauthorized, "invalid_signature", "The webhook signature did not verify."))
		return
	}
	outcome, err := s.billing.HandleEvent(r.Context(), ev)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "webhook processed", slog.String("request_id", requestID(r.Context())),
		slog.String("delivery_id", ev.ID), slog.String("type", ev.Type), slog.String("outcome", outcome))
	writeJSON(w, http.StatusOK, map[string]string{"received": ev.ID, "outcome": outcome})
}
