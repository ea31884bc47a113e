package whopsim

import (
	"errors"
	"html/template"
	"net/http"
)

// The hosted page of a setup-mode checkout configuration: its purchase_url
// (/checkout?session=ch_…) shows the signed-in user a choice of test cards
// and "Save card", which does what the modal's does (Sim.SaveCard: the
// member, the method, the setup intent, setup_intent.succeeded) and then
// sends the buyer to the configuration's redirect_url, as a paid checkout
// does. The declining card keeps the buyer here with the decline.

var hostedSetupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Save a payment method · Whop sandbox</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/_sim/assets/parent.css">
<link rel="stylesheet" href="/_sim/assets/checkout.css">
</head>
<body class="hosted" data-testid="whopsim-hosted-setup">
<header class="hosted-top"><span class="whop-mark">whop</span><span class="muted small">Secure checkout · sandbox</span></header>
<main class="hosted-main">
{{if .Session}}
  <section class="hosted-summary">
    <div class="muted small" data-testid="whopsim-checkout-company">{{.Company}}</div>
    <h1 data-testid="whopsim-checkout-title">Save a payment method</h1>
    <div class="co-price"><span data-testid="whopsim-checkout-price">No charge now</span></div>
  </section>
  <section class="hosted-pay">
  {{if .Receipt}}
    <div class="hosted-done ok" data-testid="whopsim-checkout-done"><h2>Card saved</h2>
      <p class="muted">Setup <span class="mono">{{.Receipt}}</span>. You can close this tab.</p></div>
  {{else}}
    <form method="post" action="/checkout">
      <input type="hidden" name="session" value="{{.Session}}">
      <div class="co-field"><div class="muted small">Signed in as</div>
        <div data-testid="whopsim-checkout-user"><strong>{{.Buyer.Name}}</strong> <span class="muted">@{{.Buyer.Username}}</span></div></div>
      <div class="co-field card"><div class="muted small">Card</div>
        <select name="card" data-testid="whopsim-card">
          <option value="4242424242424242">4242 4242 4242 4242 · saves, charges succeed</option>
          <option value="4000000000000341">4000 0000 0000 0341 · saves, later charges decline</option>
          <option value="4000000000000002">4000 0000 0000 0002 · declined</option>
        </select></div>
      {{if .Error}}<div class="co-error" data-testid="whopsim-checkout-error">{{.Error}}</div>{{end}}
      <button class="btn primary wide" type="submit" data-testid="whopsim-pay">Save card</button>
    </form>
  {{end}}
  </section>
{{else}}
  <section class="hosted-pay hosted-missing"><h1>This checkout cannot be used</h1>
    <p class="co-error" data-testid="whopsim-checkout-error">{{.Error}}</p></section>
{{end}}
</main>
</body>
</html>`))

type hostedSetupView struct {
	Session, Company, Error, Receipt string
	Buyer                            *User
}

// hostedSetupRoutes adds the setup-mode hosted page.
func (s *Sim) hostedSetupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.hostedSetupView(r.URL.Query().Get("session"))
		s.renderHostedSetup(w, v, err)
	})
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.renderHostedSetup(w, hostedSetupView{}, badRequest("the form could not be read"))
			return
		}
		session := r.PostForm.Get("session")
		v, err := s.hostedSetupView(session)
		if err != nil {
			s.renderHostedSetup(w, v, err)
			return
		}
		res, err := s.SaveCard(Setup{CheckoutID: session, UserID: v.Buyer.ID, Card: r.PostForm.Get("card")})
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "card_declined" {
			// The buyer stays to try another card, told why.
			v.Error = ae.Message
			s.renderHostedSetup(w, v, nil)
			return
		}
		if err != nil {
			s.renderHostedSetup(w, v, err)
			return
		}
		if to := s.redirectURL(session); to != "" {
			http.Redirect(w, r, s.framed(to), http.StatusSeeOther)
			return
		}
		v.Receipt = res.ReceiptID
		s.renderHostedSetup(w, v, nil)
	})
}

func (s *Sim) hostedSetupView(session string) (hostedSetupView, error) {
	v := hostedSetupView{Session: session}
	var err error
	s.view(func(st *State) {
		co := st.Checkouts[session]
		if co == nil || co.Mode != "setup" {
			err = notFound("setup checkout configuration", session)
			v.Session = ""
			return
		}
		v.Company = st.Companies[co.CompanyID].Title
		if v.Buyer = st.Users[st.SelectedUser]; v.Buyer == nil {
			err = badRequest("no buyer selected")
			v.Session = ""
		}
	})
	return v, err
}

func (s *Sim) renderHostedSetup(w http.ResponseWriter, v hostedSetupView, err error) {
	status := http.StatusOK
	if err != nil {
		status = http.StatusBadRequest
		var ae *APIError
		if errors.As(err, &ae) {
			status = ae.Status
			if v.Error == "" {
				v.Error = ae.Message
			}
		} else if v.Error == "" {
			v.Error = err.Error()
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := hostedSetupPage.Execute(w, v); err != nil {
		s.log.Error("whopsim: rendering the hosted setup", "err", err)
	}
}
