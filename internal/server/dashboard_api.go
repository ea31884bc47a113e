package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/go-chi/chi/v5"
)

// paymentAPI is GET /api/payments/{id}?company_id=biz_…: the look-up as
// JSON, for an admin of that company. Amounts are minor units of currency;
// a field the configured API generation does not report is null.
func (s *Server) paymentAPI(w http.ResponseWriter, r *http.Request) {
	company := r.URL.Query().Get("company_id")
	if err := checkFields(field{"company_id", company, true, kindCompany}); err != nil {
		s.fail(w, r, err)
		return
	}
	look, err := s.billing.LookupPayment(r.Context(), userID(r.Context()), company, chi.URLParam(r, "paymentId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, paymentJSON(look))
}

func paymentJSON(look billing.PaymentLookup) map[string]any {
	p := look.Payment
	out := map[string]any{
		"id": p.ID, "api": p.API, "status": p.Status,
		"substatus":    reported(look, whop.FieldSubstatus, p.Substatus),
		"currency":     p.Currency,
		"refund_state": look.RefundState, "can_refund": look.CanRefund,
		"refundable": reported(look, whop.FieldRefundable, p.Refundable),
		"amounts": map[string]any{
			"subtotal": p.Subtotal, "total": p.Total, "refunded": p.RefundedAmount,
			"after_fees": reported(look, whop.FieldNet, p.AmountAfterFees),
			"usd_total":  reported(look, whop.FieldUSDTotal, p.USDTotal),
		},
		"card":                map[string]any{"brand": p.CardBrand, "last4": p.CardLast4},
		"payment_method_type": reported(look, whop.FieldPaymentMethodType, p.PaymentMethodType),
		"billing_reason":      reported(look, whop.FieldBillingReason, p.BillingReason),
		"user": map[string]any{"id": p.UserID, "email": p.UserEmail,
			"username": reported(look, whop.FieldUsername, p.Username)},
		"membership": map[string]any{"id": p.MembershipID,
			"status": reported(look, whop.FieldMembershipStatus, p.MembershipStatus)},
		"plan_id": p.PlanID, "product_id": p.ProductID, "company_id": p.CompanyID,
		"checkout_configuration_id": p.CheckoutConfigurationID,
		"created_at":                jsonTime(p.CreatedAt), "paid_at": jsonTime(p.PaidAt), "refunded_at": jsonTime(p.RefundedAt),
		"updated_at":      reported(look, whop.FieldUpdatedAt, jsonTime(p.UpdatedAt)),
		"failure_message": p.FailureMessage,
		"purchase":        nil, "revenue_share": nil,
	}
	if pur := look.Purchase; pur != nil {
		out["purchase"] = map[string]any{"id": pur.ID, "experience_id": pur.ExperienceID, "company_id": pur.CompanyID,
			"user_id": pur.UserID, "package": pur.PackageID, "credits": pur.Credits, "price": pur.Price,
			"status": pur.Status, "refunded_credits": pur.RefundedCredits}
	}
	if sh := look.Share; sh != nil {
		var sent any // the transfer's amount, once decided
		if sh.TransferAmount > 0 {
			sent = sh.TransferAmount
		}
		out["revenue_share"] = map[string]any{"amount": sh.Amount, "to_company_id": sh.ToCompanyID,
			"status": sh.Status, "transfer_id": sh.TransferID, "transfer_amount": sent,
			"withheld": sh.Withheld(), "clawback": sh.Clawback}
	}
	disputes := []map[string]any{}
	for _, d := range look.Disputes {
		disputes = append(disputes, map[string]any{"id": d.ID, "amount": d.Amount, "status": d.Status, "reason": d.Reason})
	}
	out["disputes"] = disputes
	return out
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
	res, err := s.billing.SendPayout(r.Context(), req)
	var refused *billing.RefusedError
	if err != nil && !(errors.As(err, &refused) && res.Payout.ID != "") {
		s.fail(w, r, err)
		return
	}
	body := map[string]any{"payout": payoutJSON(res.Payout), "replayed": res.Replayed}
	switch res.Payout.Status {
	case ledger.TransferPaid:
		writeJSON(w, http.StatusOK, body)
	case ledger.TransferPending:
		writeJSON(w, http.StatusAccepted, body)
	default:
		he := s.mapError(r, &billing.RefusedError{What: "payout", Reason: res.Payout.LastError})
		body["error"] = he.body()
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

func payoutJSON(p ledger.Payout) map[string]any {
	return map[string]any{
		"id": p.ID, "company_id": p.CompanyID, "status": p.Status,
		"recipient": map[string]any{"input": p.RecipientInput, "id": p.RecipientID, "username": p.RecipientUsername},
		"amount":    p.Amount, "currency": p.Currency, "fee": p.Fee, "charged_fee": p.ChargedFee, "notes": p.Notes,
		"ledger_account_id": p.LedgerAccountID, "transfer_id": p.TransferID, "attempts": p.Attempts,
		"last_error": p.LastError, "idempotency_key": p.IdempotencyKey,
		"created_at": jsonTime(p.CreatedAt), "finished_at": jsonTime(p.FinishedAt),
	}
}
