package server

import (
	"net/http"

	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

func (s *Server) layoutProps(title string) layout.Props {
	return layout.Props{
		Title:         title,
		AppID:         s.settings.AppID,
		ParentOrigins: s.parentOrigins(),
		AssetVersion:  s.assetVersion,
	}
}

func (s *Server) discover(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, page.Discover(page.DiscoverView{Layout: s.layoutProps("Discover")}))
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "companyId")
	premium, err := s.premiumMembers(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, page.Dashboard(page.DashboardView{
		Layout:         s.layoutProps("Dashboard"),
		CompanyID:      id,
		PremiumMembers: premium,
	}))
}
