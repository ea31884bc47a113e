package whopsim

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// HeaderUserToken is the header Whop's proxy adds to every request to the
// app.
const HeaderUserToken = "X-Whop-User-Token"

// devTokenParam is the query parameter of Whop's localhost mode; a token in
// it wins over the selected user, as the dev proxy's does.
const devTokenParam = "whop-dev-user-token"

// Relay returns the reverse proxy that stands in front of the app at
// appURL, as Whop's does at https://<id>.apps.whop.com: every request gets a
// freshly signed x-whop-user-token for the user selected on the parent page
// (or the one in ?whop-dev-user-token=), any token the browser sent is
// replaced, X-Forwarded-Host/Proto say where the browser was (Host is the
// app's own, as with Whop's proxy), and
// X-Frame-Options is removed from responses so the app can be framed.
func (s *Sim) Relay(appURL string) (http.Handler, error) {
	target, err := url.Parse(appURL)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return nil, fmt.Errorf("whopsim: app URL %q: want an absolute URL like http://127.0.0.1:3000", appURL)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Del(HeaderUserToken)
			token := pr.In.URL.Query().Get(devTokenParam)
			if token == "" {
				token = s.relayToken()
			}
			if token != "" {
				pr.Out.Header.Set(HeaderUserToken, token)
			}
		},
		ModifyResponse: func(res *http.Response) error {
			res.Header.Del("X-Frame-Options")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.log.Warn("whopsim: relay could not reach the app", "app", appURL, "err", err)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, relayDownPage, appURL)
		},
	}, nil
}

// relayToken signs a token for the selected user, spoiled by the token
// fault if one is set.
func (s *Sim) relayToken() string {
	s.mu.Lock()
	user, fault := s.st.SelectedUser, s.faults.Token
	s.mu.Unlock()
	token, err := s.TokenWith(user, fault)
	if err != nil {
		s.log.Error("whopsim: signing a user token", "err", err)
		return ""
	}
	return token
}

// SelectUser makes userID the signed-in user the relay vouches for.
func (s *Sim) SelectUser(userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Users[userID] == nil {
		return notFound("user", userID)
	}
	s.st.SelectedUser = userID
	s.persistLocked()
	return nil
}

// SelectedUser returns the id of the signed-in user.
func (s *Sim) SelectedUser() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.SelectedUser
}

const relayDownPage = `<!doctype html><meta charset="utf-8"><title>App not reachable</title>
<body style="font:15px system-ui;margin:3rem;color:#444">
<h1 style="font-size:20px">The app is not answering</h1>
<p>The Whop sandbox relays this frame to <code>%s</code>, and nothing answered there.
Start the app (or check <code>--app</code>) and reload.</p>`
