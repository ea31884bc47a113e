package server

import (
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/creditkit/creditkit/static"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Body caps: Whop's webhooks are capped at 1 MiB by the SPEC; our own JSON
// APIs never need more than a few kilobytes.
const (
	maxWebhookBody = 1 << 20
	maxAPIBody     = 64 << 10
)

// routes is the whole route table. Keep it on one screen.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	// GetHead: a HEAD (a load balancer's health check, a link checker) is
	// answered as its GET is, without the body, rather than 405.
	r.Use(middleware.GetHead, withRequestID, s.observe, s.recoverPanics, s.securityHeaders)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, errNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, newError(http.StatusMethodNotAllowed, "method_not_allowed", "That method is not allowed here."))
	})

	// Operators.
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/metrics", s.metricsHandler().ServeHTTP)
	r.Handle("/static/*", s.staticHandler())

	// Whop's deliveries: signed, so outside the user-token and origin checks.
	r.With(withTimeout(s.settings.RequestTimeout), limitBody(maxWebhookBody)).Post("/api/webhook", s.webhook)

	r.Group(func(r chi.Router) {
		r.Use(withTimeout(s.settings.RequestTimeout), limitBody(maxAPIBody), s.checkPath)
		r.Get("/discover", s.discover)
		// Back from Whop's hosted checkout: a top-level navigation that may
		// come without the user token, so the caller is optional here and
		// the page shows private details to the verified buyer only.
		r.With(s.identify).Get("/purchases/{purchaseId}/return", s.checkoutReturn)

		// Everything else knows its caller from the Whop user token.
		r.Group(func(r chi.Router) {
			r.Use(s.authenticate, s.sameOrigin)
			r.With(s.requireExperience).Get("/experiences/{experienceId}", s.experience)
			r.With(s.requireExperience).Get("/experiences/{experienceId}/premium", s.premiumPage)
			r.With(s.requireExperience).Get("/experiences/{experienceId}/activity", s.activity)
			r.With(s.requireExperience).Get("/experiences/{experienceId}/activity.csv", s.activityCSV)
			r.Group(func(r chi.Router) {
				r.Use(s.requireAdmin)
				r.Get("/dashboard/{companyId}", s.dashboard)
				r.Post("/dashboard/{companyId}/payouts", s.payoutForm)
				r.Post("/dashboard/{companyId}/grants", s.grantForm)
				r.Get("/dashboard/{companyId}/export.csv", s.exportCSV)
				r.Get("/dashboard/{companyId}/payments/{paymentId}/refund", s.refundConfirm)
				r.Post("/dashboard/{companyId}/payments/{paymentId}/refund", s.refund)
				r.Get("/api/dashboard/{companyId}", s.dashboardAPI)
			})

			r.Post("/api/charge", s.charge)
			s.memberRoutes(r) // auto top-up and notifications (topup.go)
			r.Post("/api/purchases/{purchaseId}/confirm", s.confirm)
			r.Post("/api/purchases/{purchaseId}/outcome", s.modalOutcome)
			r.Post("/api/spend", s.spend)
			r.Post("/api/premium/checkout", s.premiumCheckout)
			r.Get("/api/premium/status", s.premiumStatus)
			// Admin APIs name their company in the request; billing checks it.
			r.Get("/api/payments/{paymentId}", s.paymentAPI)
			r.Post("/api/payouts", s.payoutAPI)
			r.Post("/api/grants", s.grantAPI)
		})
	})
	return r
}

// staticHandler serves the embedded assets. Their URLs carry a content
// version, so they can be cached for a long time.
func (s *Server) staticHandler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			// A folder: its files are the pages' to name, not a listing's.
			s.fail(w, r, errNotFound)
			return
		}
		if r.URL.Path == "/static/"+static.SDKBundle {
			if _, err := fs.Stat(static.FS, static.SDKBundle); err != nil {
				http.Error(w, "the iframe SDK bundle was not built: run `make assets`", http.StatusInternalServerError)
				return
			}
		}
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(time.Hour/time.Second)))
		}
		files.ServeHTTP(w, r)
	})
}
