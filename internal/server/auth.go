package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/go-chi/chi/v5"
)

// Access is what the middleware asks billing before a handler runs: an
// early answer, for the right status and page; billing decides again in
// every use case.
type Access interface {
	ExperienceAccess(ctx context.Context, userID, experienceID string) error
	CompanyAdmin(ctx context.Context, userID, companyID string) error
	ExperienceListing(ctx context.Context, experienceID string) (*whop.Experience, error)
}

// TokenVerifier checks Whop user tokens.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*whop.UserToken, error)
}

type ctxKey int

const userKey ctxKey = iota

// userID returns the verified user of the request; authenticate put it there.
func userID(ctx context.Context) string {
	id, _ := ctx.Value(userKey).(string)
	return id
}

var (
	errNoToken   = newError(http.StatusUnauthorized, "unauthenticated", "Open this app from Whop: the request carried no Whop user token.")
	errBadToken  = newError(http.StatusUnauthorized, "unauthenticated", "Your Whop session could not be verified. Reload the app from Whop.")
	errForbidden = newError(http.StatusForbidden, "forbidden", "Your Whop account does not have access to this.")
	errOrigin    = newError(http.StatusForbidden, "bad_origin", "This request did not come from the app's own pages.")
)

// authenticate identifies the caller from the x-whop-user-token header, and
// only from it: no cookie, no query parameter, no body field.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := s.verifyUser(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, user)))
	})
}

// identify is authenticate for the one page a browser may reach without
// Whop's relay: the return from Whop's hosted checkout, a top-level
// navigation that carries the user token only when it comes back through
// Whop. A request it cannot verify goes on as nobody (userID is ""), and
// the handler shows nobody anything private.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, err := s.verifyUser(r); err == nil {
			r = r.WithContext(context.WithValue(r.Context(), userKey, user))
		}
		next.ServeHTTP(w, r)
	})
}

// verifyUser returns the verified user of the request's token, or the error
// to answer with.
func (s *Server) verifyUser(r *http.Request) (string, error) {
	raw := r.Header.Get(whop.HeaderUserToken)
	if raw == "" {
		return "", errNoToken
	}
	if s.tokens == nil {
		return "", errUnavailable
	}
	tok, err := s.tokens.Verify(r.Context(), raw)
	if err != nil && clientGone(r) {
		return "", errClientClosed // fetching Whop's keys stopped when the client left
	}
	if errors.Is(err, whop.ErrKeysUnavailable) {
		// Whop's keys could not be fetched: our outage, not a bad token.
		s.log.ErrorContext(r.Context(), "user token keys unavailable",
			slog.String("error", err.Error()))
		return "", errUnavailable
	}
	if err != nil {
		// The reason helps operators; the token itself never reaches a log.
		s.log.InfoContext(r.Context(), "user token rejected",
			slog.String("reason", err.Error()))
		return "", errBadToken
	}
	if !whop.ValidID(tok.UserID, whop.PrefixUser) {
		// A signed token whose subject is no user id names nobody the
		// app could keep a wallet for.
		s.log.WarnContext(r.Context(), "user token rejected",
			slog.String("reason", "subject is not a user id"))
		return "", errBadToken
	}
	return tok.UserID, nil
}

// requireExperience lets through members with access to the path's
// experience; anyone else gets a page saying how to get access.
func (s *Server) requireExperience(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expID := chi.URLParam(r, "experienceId")
		err := s.billing.Access.ExperienceAccess(r.Context(), userID(r.Context()), expID)
		if errors.Is(err, billing.ErrNoAccess) {
			s.noAccess(w, r, expID)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireAdmin lets through admins of the path's company only.
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.billing.Access.CompanyAdmin(r.Context(), userID(r.Context()), chi.URLParam(r, "companyId")); err != nil {
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses state-changing browser requests from other sites. The
// user token already proves who is asking; this proves the app's own page
// asked. Accepted: Sec-Fetch-Site same-origin, or an Origin that is ours,
// one of Whop's app origins (https://*.apps.whop.com) or the sandbox's.
// Requests with neither header come from programs, not browsers, and still
// need a valid token.
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		site := r.Header.Get("Sec-Fetch-Site")
		origin := r.Header.Get("Origin")
		if site == "same-origin" || (site == "" && origin == "") || s.trustedOrigin(r, origin) {
			next.ServeHTTP(w, r)
			return
		}
		s.log.WarnContext(r.Context(), "cross-origin request refused",
			slog.String("origin", origin), slog.String("sec_fetch_site", site))
		s.fail(w, r, errOrigin)
	})
}

func (s *Server) trustedOrigin(r *http.Request, origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Host == r.Host || (r.Header.Get("X-Forwarded-Host") != "" && u.Host == r.Header.Get("X-Forwarded-Host")) {
		return true
	}
	if u.Scheme == "https" && strings.HasSuffix(u.Hostname(), ".apps.whop.com") && u.Port() == "" {
		return true
	}
	for _, o := range s.settings.SandboxOrigins {
		if origin == o {
			return true
		}
	}
	return false
}
