package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/go-chi/chi/v5"
)

// MoneyOut is a company's payments looked up and refunded, and payouts:
// the API here and the dashboard's forms.
type MoneyOut interface {
	PaymentsAPI() whop.PaymentsAPI
	LookupPayment(ctx context.Context, userID, companyID, paymentID string) (billing.PaymentLookup, error)
	RefundablePayment(ctx context.Context, userID, companyID, paymentID string) (billing.PaymentLookup, error)
	RefundPayment(ctx context.Context, r billing.RefundRequest) (billing.PaymentLookup, error)
	SendPayout(ctx context.Context, r billing.PayoutRequest) (billing.PayoutResult, error)
}

// paymentAPI is GET /api/payments/{id}?company_id=biz_…: the look-up as
// JSON, for an admin of that company. Amounts are minor units of currency;
// a field the configured API generation does not report is null.
func (s *Server) paymentAPI(w http.ResponseWriter, r *http.Request) {
	company := r.URL.Query().Get("company_id")
	if err := checkFields(field{"company_id", company, true, kindCompany}); err != nil {
		s.fail(w, r, err)
		return
	}
	look, err := s.billing.MoneyOut.LookupPayment(r.Context(), userID(r.Context()), company, chi.URLParam(r, "paymentId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view.PaymentJSON(look))
}

type payoutBody struct {
	CompanyID      string          `json:"company_id"`
	Recipient      string          `json:"recipient"`
	Amount         json.RawMessage `json:"amount"` // "12.50" or 12.50, read exactly
	Notes          string          `json:"notes"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// payoutAPI is POST /api/payouts. It answers 200 once Whop paid, 202 while
// the payout is recorded but not confirmed (a job retries it with the same
// key), and 422 with the payout when Whop refused it.
func (s *Server) payoutAPI(w http.ResponseWriter, r *http.Request) {
	var b payoutBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	req := b.request(userID(r.Context()))
	if err := checkPayout(req); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.billing.MoneyOut.SendPayout(r.Context(), req)
	var refused *billing.RefusedError
	if err != nil && !(errors.As(err, &refused) && res.Payout.ID != "") {
		s.fail(w, r, err)
		return
	}
	body := payoutReply{Payout: view.PayoutJSON(res.Payout), Replayed: res.Replayed}
	switch res.Payout.Status {
	case billing.TransferPaid:
		writeJSON(w, http.StatusOK, body)
	case billing.TransferPending:
		writeJSON(w, http.StatusAccepted, body)
	default:
		he := s.mapError(r, &billing.RefusedError{What: "payout", Reason: res.Payout.LastError})
		e := he.body()
		body.Error = &e
		writeJSON(w, he.status, body)
	}
}

// request is the payout the body asks for, on behalf of user.
func (b payoutBody) request(user string) billing.PayoutRequest {
	return billing.PayoutRequest{UserID: user, CompanyID: b.CompanyID, Recipient: b.Recipient,
		Amount: amountText(b.Amount), Notes: b.Notes, IdempotencyKey: b.IdempotencyKey}
}

// checkPayout checks a payout's fields, from the API or the dashboard's
// form, before billing judges their values (the amount's, the recipient's
// existence) and before anything is read or sent. Billing reports the
// empty recipient, amount and key, as it did before this check existed.
func checkPayout(p billing.PayoutRequest) error {
	return checkFields(
		field{"company_id", p.CompanyID, true, kindCompany},
		field{"recipient", p.Recipient, false, kindRecipient},
		field{"amount", p.Amount, false, kindAmount},
		field{"notes", p.Notes, false, kindText(billing.MaxPayoutNotes)},
		field{"idempotency_key", p.IdempotencyKey, false, kindKey},
	)
}

// amountText keeps the amount as written: a JSON string's contents, or a
// JSON number's literal digits (never through a float).
func amountText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	if bytes.Equal(raw, []byte("null")) {
		return ""
	}
	return string(raw)
}

// dashboardAPI is GET /api/dashboard/{companyId}: the dashboard's figures
// as JSON, for that company's admins. The owner's admins get the whole app
// (every installing company, the shares, the net and the comparison with
// Whop); a creator's admins get their own experiences. Amounts are minor
// units of "currency"; times are RFC 3339 UTC.
func (s *Server) dashboardAPI(w http.ResponseWriter, r *http.Request) {
	d, err := s.billing.Reports.Dashboard(r.Context(), userID(r.Context()), chi.URLParam(r, "companyId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view.DashboardJSON(d))
}

// payoutReply is POST /api/payouts: the payout as it stands, and Whop's
// refusal when it refused.
type payoutReply struct {
	Payout   view.PayoutReply `json:"payout"`
	Replayed bool             `json:"replayed"`
	Error    *errorBody       `json:"error,omitempty"`
}
