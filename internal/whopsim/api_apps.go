package whopsim

import "net/http"

// GET /apps/{id} and GET /products/{id}: what `creditkit check` reads to
// tell which app an API key belongs to and whom a product belongs to. Whop
// documents both (permissions developer:manage_api_key and
// access_pass:basic:read); an app key sees its own app only, so any other
// app id is a 404 here, as an unknown one is.

func (s *Sim) apiGetApp(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		a := st.App
		if r.PathValue("id") != a.ID {
			return nil, notFound("app", r.PathValue("id"))
		}
		c := st.Companies[a.CompanyID]
		company := obj{"id": a.CompanyID, "title": nil}
		if c != nil {
			company["title"] = c.Title
		}
		return obj{"id": a.ID, "name": a.Name, "company": company, "status": "live",
			"experience_path": "/experiences/[experienceId]", "dashboard_path": "/dashboard/[companyId]",
			"discover_path": "/discover", "base_url": nil, "domain_id": nil, "app_type": "b2b_app"}, nil
	})
}

func (s *Sim) apiGetProduct(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, func(st *State) (any, error) {
		p := st.Products[r.PathValue("id")]
		if p == nil {
			return nil, notFound("product", r.PathValue("id"))
		}
		title := any(nil)
		if c := st.Companies[p.CompanyID]; c != nil {
			title = c.Title
		}
		return obj{"id": p.ID, "title": p.Title, "route": p.Route, "visibility": "visible",
			"company": obj{"id": p.CompanyID, "title": title}, "created_at": iso(p.CreatedAt),
			"updated_at": iso(p.CreatedAt)}, nil
	})
}
