package server

import (
	"net/http"
	"net/url"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// returnPolls is how many times a "still processing" return page re-checks
// itself (about 1.5 s apart) before it says the credits will follow.
const returnPolls = 12

// checkoutReturn is where Whop's hosted checkout sends a buyer back. Coming
// back through Whop, the request carries the user token and the verified
// buyer sees their purchase settled; another member asking for it gets 404,
// as for an unknown id. Without a verified token the page says only what is
// true of every purchase, and changes nothing: the webhook and the
// reconciler credit the payment anyway.
func (s *Server) checkoutReturn(w http.ResponseWriter, r *http.Request) {
	user := userID(r.Context())
	if user == "" {
		s.render(w, r, http.StatusOK, page.CheckoutReturn(page.ReturnView{
			Layout:  s.layoutProps("Back from checkout"),
			Status:  "unknown",
			Title:   "Back from Whop checkout",
			Message: "If you completed the payment, your credits are on their way: Whop tells Creditkit directly, so there is nothing more to do here. Open the app in Whop to see your balance.",
			BackURL: s.whopHome(), BackLabel: "Open Whop",
		}))
		return
	}
	res, err := s.billing.Return(r.Context(), user, chi.URLParam(r, "purchaseId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, page.CheckoutReturn(s.returnView(res)))
}

// returnView words a purchase's return for its buyer.
func (s *Server) returnView(res billing.ReturnResult) page.ReturnView {
	p := res.Purchase
	v := page.ReturnView{
		Layout:  s.layoutProps("Checkout"),
		Status:  string(res.Status),
		Balance: component.BalanceProps{Credits: formatCount(res.Balance), Negative: res.Balance < 0},
		Receipt: &page.ReturnReceipt{
			Package: p.PackageID, Credits: formatCount(p.Credits), Amount: formatMoney(p.Price, p.Currency),
			PaymentID: p.PaymentID,
		},
		ShowBalance: res.Status != billing.ReturnProcessing,
		BackURL:     "/experiences/" + url.PathEscape(p.ExperienceID),
		BackLabel:   "Back to credits",
	}
	switch res.Status {
	case billing.ReturnPaid:
		v.Title = "Payment received"
		v.Message = formatCount(p.Credits) + " credits are in your wallet."
	case billing.ReturnFailed:
		v.Title = "The payment did not go through"
		v.Message = sentence(res.Reason, "The payment failed.") + " No credits were added and your balance is unchanged."
		v.BackLabel = "Back to credits to try again"
	default:
		v.Title = "Confirming your payment…"
		v.Message = "Whop is confirming your payment. This page updates by itself."
		v.Polls = returnPolls
		v.SlowMessage = "Whop is taking longer than usual. Your credits will arrive in your wallet as soon as the payment is confirmed; you can safely leave this page."
	}
	return v
}

// whopHome is where a visitor the app cannot identify is sent to open the
// app properly: Whop, or the sandbox's parent page in development.
func (s *Server) whopHome() string {
	if s.settings.Development && len(s.settings.SandboxOrigins) > 0 {
		return s.settings.SandboxOrigins[0] + "/"
	}
	return "https://whop.com/"
}
