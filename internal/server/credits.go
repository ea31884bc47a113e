package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// Credits is a member's wallet: the experience page, buying credits and
// spending them (activity.go and return.go use it too).
type Credits interface {
	Packages() []billing.Package
	Currency() money.Currency
	Wallet(ctx context.Context, userID, experienceID string, fresh bool) (billing.Wallet, error)
	Balance(ctx context.Context, userID, experienceID string) (int64, error)
	Activity(ctx context.Context, userID, experienceID string, before int64) (billing.ActivityPage, error)
	Charge(ctx context.Context, r billing.ChargeRequest) (billing.Charge, error)
	Confirm(ctx context.Context, userID, purchaseID, receiptID string) (billing.ConfirmResult, error)
	Return(ctx context.Context, userID, purchaseID string) (billing.ReturnResult, error)
	CheckModalOutcome(ctx context.Context, userID, purchaseID string) (billing.ModalOutcome, error)
	Spend(ctx context.Context, r billing.SpendRequest) (billing.Spent, error)
}

// headerRefresh marks the page's own script re-reading the page after an
// action (static/js/app.js, refresh): the premium card must then be what
// premium decides, not an answer kept for show (billing.Credits.Wallet).
const headerRefresh = "X-Creditkit-Refresh"

func (s *Server) experience(w http.ResponseWriter, r *http.Request) {
	expID := chi.URLParam(r, "experienceId")
	fresh := r.Header.Get(headerRefresh) != ""
	wallet, err := s.billing.Credits.Wallet(r.Context(), userID(r.Context()), expID, fresh)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := view.Experience(s.layoutProps("Credits"), expID, wallet, s.billing.Credits.Packages(), s.billing.Credits.Currency())
	s.render(w, r, http.StatusOK, page.Experience(v))
}

type chargeBody struct {
	ExperienceID   string `json:"experience_id"`
	Package        string `json:"package"`
	IdempotencyKey string `json:"idempotency_key"`
}

func (b chargeBody) check() error {
	return checkFields(
		field{"experience_id", b.ExperienceID, true, kindExperience},
		field{"package", b.Package, true, kindSlug},
		field{"idempotency_key", b.IdempotencyKey, false, kindKey},
	)
}

// charge answers with what inAppPurchase takes ({id, planId}) and our
// purchase id. The price is the server's; the body only names a package.
func (s *Server) charge(w http.ResponseWriter, r *http.Request) {
	var b chargeBody
	if err := decodeChecked(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.billing.Credits.Charge(r.Context(), billing.ChargeRequest{
		UserID: userID(r.Context()), ExperienceID: b.ExperienceID, PackageID: b.Package, IdempotencyKey: b.IdempotencyKey,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view.ChargeReply{
		ID: c.CheckoutID, PlanID: c.PlanID, PurchaseID: c.PurchaseID, PurchaseURL: c.PurchaseURL,
	})
}

type confirmBody struct {
	ReceiptID string `json:"receipt_id"`
}

// check refuses anything but a payment id at once: a real receipt id with
// junk appended is no id, and must not be polled for at Whop.
func (b confirmBody) check() error {
	return checkFields(field{"receipt_id", b.ReceiptID, true, kindPayment})
}

// confirm fulfils a purchase from the receipt the purchase modal returned.
// While Whop still hides a brand-new payment it answers 202: the webhook
// will credit it, and the page says so.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	var b confirmBody
	if err := decodeChecked(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.billing.Credits.Confirm(r.Context(), userID(r.Context()), chi.URLParam(r, "purchaseId"), b.ReceiptID)
	if errors.Is(err, billing.ErrPaymentPending) {
		writeJSON(w, http.StatusAccepted, view.ProcessingReply{Status: "processing"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view.Confirm(res))
}

// modalOutcome answers, after Whop's purchase modal ended with an error,
// what happened to the purchase: paid, declined (with Whop's reason),
// still processing, or closed without a payment. Whop's records decide,
// not the modal's error string, which Whop does not document.
func (s *Server) modalOutcome(w http.ResponseWriter, r *http.Request) {
	var b struct{}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.billing.Credits.CheckModalOutcome(r.Context(), userID(r.Context()), chi.URLParam(r, "purchaseId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view.Modal(out))
}

type spendBody struct {
	ExperienceID   string `json:"experience_id"`
	Item           string `json:"item"`
	IdempotencyKey string `json:"idempotency_key"`
}

func (b spendBody) check() error {
	return checkFields(
		field{"experience_id", b.ExperienceID, true, kindExperience},
		field{"item", b.Item, true, kindSlug},
		field{"idempotency_key", b.IdempotencyKey, true, kindKey},
	)
}

func (s *Server) spend(w http.ResponseWriter, r *http.Request) {
	var b spendBody
	if err := decodeChecked(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	sp, err := s.billing.Credits.Spend(r.Context(), billing.SpendRequest{
		UserID: userID(r.Context()), ExperienceID: b.ExperienceID, ItemID: b.Item, IdempotencyKey: b.IdempotencyKey,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view.Spend(sp))
}
