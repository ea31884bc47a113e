package whopsim

import (
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
)

// The parent page: Whop-like chrome around an iframe of the app (through
// the relay), a user switcher, the sandbox's controls and the host side of
// the iframe protocol, built on the official @whop/iframe host bundle.

//go:embed assets/parent.html assets/parent.css assets/parent.js assets/checkout.html assets/checkout.css assets/checkout.js all:assets/dist
var assets embed.FS

var parentPage = template.Must(template.ParseFS(assets, "assets/parent.html"))

// hostBundle is where `make assets` writes the bundled createSdkHost.
const hostBundle = "assets/dist/whop-host.js"

// maxMessagesKept bounds the iframe message log.
const maxMessagesKept = 500

// Handler returns the sandbox's main handler: the parent page at /, the
// hosted checkout at /checkout/{plan} (purchase_url), the API under /api/,
// the JWKS at /.well-known/jwks.json and the control API under /_sim/.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", s.apiHandler())
	mux.Handle("/_sim/", s.controlHandler())
	mux.HandleFunc("GET /.well-known/jwks.json", s.serveJWKS)
	mux.HandleFunc("GET /_sim/assets/{file}", s.serveAsset)
	mux.HandleFunc("GET /{$}", s.serveParent)
	// purchase_url: the hosted checkout (hosted.go).
	s.hostedSetupRoutes(mux) // setup-mode configurations' page (hosted_setup.go)
	mux.HandleFunc("GET /checkout/{plan}", s.serveHostedCheckout)
	mux.HandleFunc("POST /checkout/{plan}", s.submitHostedCheckout)
	return mux
}

// view is one page of the app the sidebar offers.
type view struct {
	Label        string `json:"label"`
	Group        string `json:"group"`
	Path         string `json:"path"`
	ViewType     string `json:"viewType"`
	CompanyID    string `json:"companyId"`
	CompanyRoute string `json:"companyRoute"`
	ExperienceID string `json:"experienceId"`
}

func (s *Sim) views(st *State) []view {
	var out []view
	for _, c := range []SeedCompany{s.seed.Creator, s.seed.Owner} {
		co := st.Companies[c.ID]
		e := st.Experiences[c.ExperienceID]
		out = append(out,
			view{Label: e.Name, Group: co.Title, Path: "/experiences/" + e.ID, ViewType: "app",
				CompanyID: co.ID, CompanyRoute: co.Route, ExperienceID: e.ID},
			view{Label: "Dashboard", Group: co.Title, Path: "/dashboard/" + co.ID, ViewType: "admin",
				CompanyID: co.ID, CompanyRoute: co.Route})
	}
	return append(out, view{Label: "Discover", Group: "App store", Path: "/discover", ViewType: "preview"})
}

// serveParent renders the parent page. ?user= selects a user first and
// ?path= picks the app page, so a link (or a browser test) can open any
// view as anyone.
func (s *Sim) serveParent(w http.ResponseWriter, r *http.Request) {
	if u := r.URL.Query().Get("user"); u != "" {
		if err := s.SelectUser(u); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
	}
	public, relay := s.URLs()
	var cfg obj
	s.view(func(st *State) {
		views := s.views(st)
		path := r.URL.Query().Get("path")
		if path == "" || !strings.HasPrefix(path, "/") {
			path = views[0].Path
		}
		users := []SeedUser{s.seed.Admin, s.seed.OwnerAdmin}
		users = append(users, s.seed.Members...)
		users = append(users, s.seed.NoAccess)
		cfg = obj{"appId": st.App.ID, "appName": st.App.Name, "publicOrigin": public, "relayOrigin": relay,
			"path": path, "views": views, "users": users, "selectedUser": st.SelectedUser,
			"webhookUrl": s.opts.WebhookURL, "webhookScheme": s.opts.WebhookScheme}
	})
	js, err := json.Marshal(cfg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	parentPage.Execute(w, obj{"Config": template.JS(js), "AppName": cfg["appName"]})
}

// serveAsset serves the page's script and style and the host bundle. A
// missing bundle is answered with a script that says what to run, since
// the page cannot work without it.
func (s *Sim) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	path := "assets/" + name
	if name == "whop-host.js" {
		path = hostBundle
	}
	b, err := fs.ReadFile(assets, path)
	if err != nil && name == "whop-host.js" {
		s.log.Error("whopsim: the iframe host bundle is missing; run `make assets`", "path", hostBundle)
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write([]byte(`window.WhopHostMissing = "The sandbox was built without its iframe host bundle (` +
			hostBundle + `). Run \"make assets\", then restart the sandbox.";`))
		return
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// Messages returns the iframe-protocol calls the parent page answered.
func (s *Sim) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.Messages)
}

func (s *Sim) ctlMessages(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, obj{"data": s.Messages()})
}

// ctlLogMessage records a call the page answered (the page posts them).
func (s *Sim) ctlLogMessage(w http.ResponseWriter, r *http.Request) {
	var m Message
	if !decode(w, r, &m) {
		return
	}
	m.At = s.clock.Now()
	s.mu.Lock()
	s.st.Messages = append(s.st.Messages, m)
	if n := len(s.st.Messages); n > maxMessagesKept {
		s.st.Messages = append([]Message(nil), s.st.Messages[n-maxMessagesKept:]...)
	}
	s.mu.Unlock()
	ok(w)
}
