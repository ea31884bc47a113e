package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/creditkit/creditkit/web/page"
)

// noAccess answers 403 to a user without access to an experience: a page
// saying so and, when Whop names the products that give access, a link to
// each one's page on Whop. Whop documents the discover page of a product
// (whop.com/discover/{route}/) as the place apps send people to, with the
// app's id so the app is credited. Asking Whop is best effort: without an
// answer the page still says what is missing.
func (s *Server) noAccess(w http.ResponseWriter, r *http.Request, experienceID string) {
	if isAPI(r) {
		s.fail(w, r, errForbidden)
		return
	}
	v := page.NoAccessView{Layout: s.layoutProps("No access"), RequestID: requestID(r.Context())}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if e, err := s.billing.Access.ExperienceListing(ctx, experienceID); err == nil {
		v.Experience, v.Company = e.Name, e.CompanyTitle
		for _, p := range e.Products {
			if p.Route == "" || p.Title == "" {
				continue
			}
			v.Products = append(v.Products, page.AccessProduct{Title: p.Title, URL: productURL(p.Route, s.settings.AppID)})
		}
	} else if !clientGone(r) {
		s.log.InfoContext(r.Context(), "no-access page without the experience's products",
			slog.String("error", err.Error()))
	}
	s.render(w, r, http.StatusForbidden, page.NoAccess(v))
}

// productURL is a product's discover page on Whop, crediting the app.
func productURL(route, appID string) string {
	u := "https://whop.com/discover/" + url.PathEscape(route) + "/"
	if appID != "" {
		u += "?app=" + url.QueryEscape(appID)
	}
	return u
}
