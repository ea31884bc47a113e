package server

import (
	"net/http"

	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

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
	res, err := s.billing.Credits.Return(r.Context(), user, chi.URLParam(r, "purchaseId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, page.CheckoutReturn(view.Return(s.layoutProps("Checkout"), res)))
}

// whopHome is where a visitor the app cannot identify is sent to open the
// app properly: Whop, or the sandbox's parent page in development.
func (s *Server) whopHome() string {
	if s.settings.Development && len(s.settings.SandboxOrigins) > 0 {
		return s.settings.SandboxOrigins[0] + "/"
	}
	return "https://whop.com/"
}
