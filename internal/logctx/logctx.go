// Package logctx puts a request's identity on every log line written while
// it runs, whichever package writes it: the edge stores the request id (and
// a way to read the matched route) in the request's context once, and
// Handler adds both to each record logged with that context (the *Context
// methods of slog). Billing, ledger and the Whop client need do nothing but
// pass the context they were given.
package logctx

import (
	"context"
	"log/slog"
)

// Attribute keys Handler adds.
const (
	KeyRequestID = "request_id"
	KeyRoute     = "route"
)

type ctxKey struct{}

type request struct {
	id    string
	route func() string
}

// WithRequest returns ctx carrying a request's id and route; route is read
// when a line is logged (a router knows the pattern only once it matched),
// and may be nil.
func WithRequest(ctx context.Context, id string, route func() string) context.Context {
	return context.WithValue(ctx, ctxKey{}, &request{id: id, route: route})
}

// RequestID is the id WithRequest stored, or "".
func RequestID(ctx context.Context) string {
	if r, ok := ctx.Value(ctxKey{}).(*request); ok {
		return r.id
	}
	return ""
}

// Handler wraps h so that each record logged with a request's context
// carries request_id and route, unless the record names them itself.
// Wrapping a wrapped handler returns it unchanged.
func Handler(h slog.Handler) slog.Handler {
	if _, ok := h.(*handler); ok {
		return h
	}
	return &handler{next: h}
}

type handler struct{ next slog.Handler }

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	req, ok := ctx.Value(ctxKey{}).(*request)
	if !ok {
		return h.next.Handle(ctx, rec)
	}
	hasID, hasRoute := false, false
	rec.Attrs(func(a slog.Attr) bool {
		hasID = hasID || a.Key == KeyRequestID
		hasRoute = hasRoute || a.Key == KeyRoute
		return true
	})
	if !hasID && req.id != "" {
		rec.AddAttrs(slog.String(KeyRequestID, req.id))
	}
	if !hasRoute && req.route != nil {
		if route := req.route(); route != "" {
			rec.AddAttrs(slog.String(KeyRoute, route))
		}
	}
	return h.next.Handle(ctx, rec)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler { return &handler{next: h.next.WithAttrs(as)} }

func (h *handler) WithGroup(name string) slog.Handler { return &handler{next: h.next.WithGroup(name)} }
