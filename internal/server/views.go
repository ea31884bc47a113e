package server

import (
	"net/http"

	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
)

func (s *Server) layoutProps(title string) layout.Props {
	return layout.Props{
		Title:         title,
		AppID:         s.settings.AppID,
		ParentOrigins: s.parents,
		AssetVersion:  s.assetVersion,
	}
}

func (s *Server) discover(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, page.Discover(page.DiscoverView{Layout: s.layoutProps("Discover")}))
}
