package whopsim

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The hosted checkout: the page a checkout configuration's purchase_url
// opens, for buyers paying outside an app's iframe (a browser tab, a mobile
// webview without the purchase bridge, or by choice). Its Pay and Decline
// buttons do exactly what the modal's do — Sim.Pay and Sim.Decline make the
// payment, move the ledger and send the same webhooks — and then send the
// buyer to the configuration's redirect_url. Whop may append query
// parameters there (unconfirmed); the sandbox appends none, so an app
// cannot come to depend on them. A redirect_url on the relay's origin (the
// app as this sandbox frames it, as APP_URL names the app's
// *.apps.whop.com origin) comes back inside the parent page, framed, as a
// return to the app's origin does on Whop; any other is followed as is. A
// declined card is sent back too, so the app's "failed" page can be
// exercised; Whop may instead keep the buyer on its page to try another
// card (unconfirmed).

var hostedPage = template.Must(template.ParseFS(assets, "assets/checkout.html"))

// hostedView is the hosted page's model.
type hostedView struct {
	Title, Company, Initial string
	Price, Period           string
	Buyer                   *User
	PlanID, Session         string
	// ReturnHost is where the buyer goes afterwards, shown as Whop does.
	ReturnHost string
	// Error is why the purchase cannot be paid (or why paying failed).
	Error string
	// Done is "paid" or "declined" once the buyer chose and the
	// configuration has no redirect_url to send them to.
	Done, Receipt string
}

// serveHostedCheckout shows GET /checkout/{plan}?session=ch_… to the user
// signed in on the parent page, as whop.com shows it to its signed-in user.
func (s *Sim) serveHostedCheckout(w http.ResponseWriter, r *http.Request) {
	req := Purchase{CheckoutID: r.URL.Query().Get("session"), PlanID: r.PathValue("plan")}
	v, err := s.hostedView(req)
	s.renderHosted(w, v, err)
}

// submitHostedCheckout answers the page's form: outcome=pay|decline.
func (s *Sim) submitHostedCheckout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderHosted(w, hostedView{}, badRequest("the checkout form could not be read"))
		return
	}
	req := Purchase{CheckoutID: r.PostForm.Get("session"), PlanID: r.PathValue("plan")}
	v, err := s.hostedView(req)
	if err != nil {
		s.renderHosted(w, v, err)
		return
	}
	var res PurchaseResult
	switch r.PostForm.Get("outcome") {
	case "pay":
		res, err = s.Pay(req)
		v.Done = "paid"
	case "decline":
		res, err = s.Decline(req)
		v.Done = "declined"
	default:
		err = badRequest("outcome must be pay or decline")
	}
	if err != nil {
		v.Done = ""
		s.renderHosted(w, v, err)
		return
	}
	if to := s.redirectURL(req.CheckoutID); to != "" {
		http.Redirect(w, r, s.framed(to), http.StatusSeeOther)
		return
	}
	v.Receipt = res.ReceiptID
	s.renderHosted(w, v, nil)
}

// hostedView describes a purchase for the page.
func (s *Sim) hostedView(req Purchase) (hostedView, error) {
	var v hostedView
	var err error
	s.view(func(st *State) {
		var in purchaseInfo
		if in, err = s.describePurchase(st, req); err != nil {
			return
		}
		v = hostedView{Title: in.Title, Company: in.Company, Initial: initial(in.Company),
			Price: displayPrice(in.Plan.Charge(), in.Plan.Currency), Buyer: in.Buyer,
			PlanID: in.Plan.ID, Session: req.CheckoutID}
		if in.Plan.PlanType == "renewal" {
			v.Period = "then " + displayPrice(in.Plan.RenewalPrice, in.Plan.Currency) +
				" every " + strconv.Itoa(in.Plan.BillingPeriod) + " days"
		}
		if in.Checkout != nil && in.Checkout.RedirectURL != "" {
			if u, perr := url.Parse(in.Checkout.RedirectURL); perr == nil {
				v.ReturnHost = u.Host
			}
		}
	})
	return v, err
}

// framed is where a return to to lands: the parent page framing the
// app's page when to is on the relay's origin, else to itself.
func (s *Sim) framed(to string) string {
	public, relay := s.URLs()
	u, err := url.Parse(to)
	if err != nil || relay == "" || u.Scheme+"://"+u.Host != relay {
		return to
	}
	path := u.EscapedPath()
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return public + "/?path=" + url.QueryEscape(path)
}

// redirectURL is the configuration's redirect_url, or "".
func (s *Sim) redirectURL(checkoutID string) string {
	var to string
	s.view(func(st *State) {
		if co := st.Checkouts[checkoutID]; co != nil {
			to = co.RedirectURL
		}
	})
	return to
}

func (s *Sim) renderHosted(w http.ResponseWriter, v hostedView, err error) {
	status := http.StatusOK
	if err != nil {
		status = http.StatusBadRequest
		var ae *APIError
		if errors.As(err, &ae) {
			status, v.Error = ae.Status, ae.Message
		} else {
			v.Error = err.Error()
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := hostedPage.Execute(w, v); err != nil {
		s.log.Error("whopsim: rendering the hosted checkout", "err", err)
	}
}

// displayPrice writes a price the way Whop's checkout does: "$4.99",
// with every minor-unit digit (unlike the API's JSON numbers).
func displayPrice(minor int64, currency string) string {
	amount := strconv.FormatInt(max(minor, 0), 10)
	if exp := exponent(currency); exp > 0 {
		for len(amount) <= exp {
			amount = "0" + amount
		}
		amount = amount[:len(amount)-exp] + "." + amount[len(amount)-exp:]
	}
	switch code := strings.TrimPrefix(currency, "whop_"); code {
	case "usd":
		return "$" + amount
	case "eur":
		return "€" + amount
	case "gbp":
		return "£" + amount
	default:
		return amount + " " + strings.ToUpper(code)
	}
}

func initial(name string) string {
	for _, r := range name {
		return strings.ToUpper(string(r))
	}
	return "W"
}
