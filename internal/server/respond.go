package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/web/page"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// httpError is an error with the status, code and message a caller sees.
type httpError struct {
	status  int
	code    string
	message string
	// balance, when set, is the member's balance, sent with insufficient_credits.
	balance *int64
}

func (e *httpError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, message string) *httpError {
	return &httpError{status: status, code: code, message: message}
}

// errorBody is what an API caller gets under "error"; balance is there
// when credits ran short.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Balance *int64 `json:"balance,omitempty"`
}

// errorReply is an API error answer.
type errorReply struct {
	Error errorBody `json:"error"`
}

func (e *httpError) body() errorBody {
	return errorBody{Code: e.code, Message: e.message, Balance: e.balance}
}

var (
	errInternal    = newError(http.StatusInternalServerError, "internal", "Something went wrong on our side. Please try again in a moment.")
	errNotFound    = newError(http.StatusNotFound, "not_found", "There is nothing here.")
	errUnavailable = newError(http.StatusServiceUnavailable, "unavailable", "This part of the app is not available right now.")
	errTimeout     = newError(http.StatusServiceUnavailable, "timeout", "That took too long. Please try again.")
	errTooLarge    = newError(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.")
	// errClientClosed answers a request whose client went away before the
	// answer: nobody reads it, and the status (nginx's 499) only labels the
	// log line and the metrics as the client's doing, not an outage.
	errClientClosed = newError(statusClientClosed, "client_closed_request", "The request was cancelled before it was answered.")
)

// statusClientClosed is nginx's "client closed request", which net/http
// has no name for.
const statusClientClosed = 499

// clientGone reports whether the request's client disconnected (or
// cancelled it) before it was answered. A deadline of our own is not that.
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// mapError is the one place an error becomes what the caller sees. Expected
// outcomes are recognised with errors.Is/As; anything else is an internal
// error, logged once with the request id and shown generically.
func (s *Server) mapError(r *http.Request, err error) *httpError {
	var he *httpError
	var tooBig *http.MaxBytesError
	var short *billing.InsufficientCreditsError
	var rejected *billing.RejectedError
	var declined *billing.DeclinedError
	var field *billing.FieldError
	var poor *billing.InsufficientBalanceError
	var refused *billing.RefusedError
	var feeCur *billing.FeeCurrencyError
	var unusable *billing.MalformedError
	switch {
	case clientGone(r):
		// Whatever failed, it failed because the client left: not ours to
		// log as an error, or to page anyone about.
		return errClientClosed
	case errors.As(err, &he):
		return he
	case errors.As(err, &tooBig):
		return errTooLarge
	case errors.As(err, &short):
		return &httpError{status: http.StatusConflict, code: "insufficient_credits",
			message: "Not enough credits: your balance is " + view.FormatCount(short.Balance) + " and this costs " + view.FormatCount(short.Cost) + ".",
			balance: &short.Balance}
	case errors.As(err, &rejected):
		return newError(http.StatusUnprocessableEntity, "payment_rejected", "Whop's payment does not match this purchase, so no credits were added: "+rejected.Reason+".")
	case errors.As(err, &declined):
		msg := "Whop failed the payment."
		if why := strings.TrimSuffix(strings.TrimSpace(declined.Reason), "."); why != "" {
			msg = "Whop failed the payment: " + why + "."
		}
		return newError(http.StatusUnprocessableEntity, "payment_failed", msg+" You were not charged and no credits were added; you can try again.")
	case errors.As(err, &field):
		return newError(http.StatusBadRequest, "invalid_"+field.Field, field.Message)
	case errors.As(err, &poor):
		return newError(http.StatusUnprocessableEntity, "insufficient_balance", "The company's balance of "+
			view.FormatMoney(poor.Balance, string(poor.Currency))+" does not cover "+view.FormatMoney(poor.Amount, string(poor.Currency))+
			" plus the "+view.FormatMoney(poor.Fee, string(poor.Currency))+" transfer fee. Nothing was sent.")
	case errors.As(err, &feeCur):
		return newError(http.StatusUnprocessableEntity, "fee_currency_mismatch", "Whop reports the transfer fee in "+
			strings.ToUpper(string(feeCur.Fee))+" but payouts are in "+strings.ToUpper(string(feeCur.Payout))+
			", so the balance cannot be checked against the amount plus the fee. Nothing was sent.")
	case errors.As(err, &unusable):
		s.log.ErrorContext(r.Context(), "unusable data from Whop",
			slog.String("reason", unusable.Reason))
		return newError(http.StatusBadGateway, "whop_unusable", "Whop answered with data the app cannot use, so nothing was changed. Please try again later.")
	case errors.As(err, &refused):
		return newError(http.StatusUnprocessableEntity, "whop_refused", "Whop refused the "+refused.What+": "+refused.Reason)
	case errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(r.Context(), "request timed out", slog.String("error", err.Error()))
		return errTimeout
	}
	for _, m := range domainErrors {
		if errors.Is(err, m.err) {
			return m.http
		}
	}
	s.log.ErrorContext(r.Context(), "internal error",
		slog.String("error", err.Error()))
	return errInternal
}

// domainErrors maps the use cases' sentinel errors to responses. It grows
// with the use cases; keep it the only such table.
var domainErrors = []struct {
	err  error
	http *httpError
}{
	{billing.ErrUnknownPackage, newError(http.StatusBadRequest, "unknown_package", "There is no credit package with that id.")},
	{billing.ErrUnknownExperience, newError(http.StatusNotFound, "unknown_experience", "Whop does not know that experience.")},
	{billing.ErrNoAccess, errForbidden},
	{billing.ErrNotYourPayment, newError(http.StatusConflict, "receipt_mismatch", "That receipt is not for this purchase.")},
	{billing.ErrPremiumDisabled, errNotFound},
	{billing.ErrNotPremium, newError(http.StatusForbidden, "premium_required", "This part of the app is for premium members. Upgrade from the app's main page to open it.")},
	{billing.ErrAlreadyPremium, newError(http.StatusConflict, "already_premium", "You are already a premium member.")},
	{billing.ErrPaymentNotFound, newError(http.StatusNotFound, "payment_not_found", "No payment with that id belongs to this company.")},
	{billing.ErrNotRefundable, newError(http.StatusConflict, "not_refundable", "This payment cannot be refunded: it is not paid, was refunded already, or is disputed.")},
	{billing.ErrRefundOwnerOnly, newError(http.StatusForbidden, "refund_owner_only", "Only the app owner's admins can refund payments: the owner's company received the money.")},
	{billing.ErrUnknownRecipient, newError(http.StatusUnprocessableEntity, "unknown_recipient", "Whop has no user with that username or id. Nothing was sent.")},
	{billing.ErrUnknownMember, newError(http.StatusUnprocessableEntity, "unknown_member", "Whop has no user with that username or id. Nothing was granted.")},
	{billing.ErrNotAMember, newError(http.StatusUnprocessableEntity, "not_a_member", "That user has no access to the experience, so they are not one of its members. Nothing was granted.")},
	{billing.ErrNotYourExperience, newError(http.StatusForbidden, "not_your_experience", "That experience belongs to another company: you can grant credits in your own company's experiences only.")},
	{billing.ErrNotFound, errNotFound},
	{billing.ErrIdempotencyConflict, newError(http.StatusConflict, "idempotency_conflict", "That idempotency key was already used for a different request.")},
	{billing.ErrUnknownItem, newError(http.StatusBadRequest, "unknown_item", "There is no item with that id.")},
	{whop.ErrRateLimited, newError(http.StatusServiceUnavailable, "whop_busy", "Whop is busy right now. Please try again in a moment.")},
	{whop.ErrServer, newError(http.StatusBadGateway, "whop_unavailable", "Whop did not answer. Please try again in a moment.")},
}

// fail answers with err: JSON for /api/ routes, an error page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	he := s.mapError(r, err)
	if isAPI(r) {
		writeJSON(w, he.status, errorReply{Error: he.body()})
		return
	}
	s.render(w, r, he.status, page.Error(page.ErrorView{
		Layout:    s.layoutProps(http.StatusText(he.status)),
		Status:    he.status,
		Title:     errorTitle(he),
		Message:   he.message,
		RequestID: requestID(r.Context()),
	}))
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func errorTitle(he *httpError) string {
	if he.code == "premium_required" {
		return "Premium members only"
	}
	switch he.status {
	case http.StatusUnauthorized:
		return "Open this app from Whop"
	case http.StatusForbidden:
		return "You don't have access"
	case http.StatusNotFound:
		return "Not found"
	default:
		return "Something went wrong"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// render writes a templ component as the response. Pages are rendered into a
// buffer first so a failure half-way still yields a clean error page, and
// the buffer goes out in one write with its Content-Length: without it,
// net/http sends a page over 2 KB chunked, and the chunked encoding's
// last, empty chunk costs a write of its own (and the client a read).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		if clientGone(r) {
			w.WriteHeader(statusClientClosed) // templ stops when the context ends; nobody is reading
			return
		}
		s.log.ErrorContext(r.Context(), "render", slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// decodeChecked is decodeJSON followed by the body's own field checks.
func decodeChecked(r *http.Request, b interface{ check() error }) error {
	if err := decodeJSON(r, b); err != nil {
		return err
	}
	return b.check()
}

// decodeJSON reads a JSON request body strictly: unknown fields and trailing
// data are a 400, so a typo never silently changes what a request does.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return newError(http.StatusBadRequest, "unreadable_body", "The request body could not be read.")
	}
	return decodeBody(body, v)
}

// decodeBody is decodeJSON's parsing, apart from reading, so it can be
// fuzzed. It reads by the exact rules of JSON (RFC 8259 as RFC 7493 narrows
// it), where encoding/json is lenient in ways a caller could be misread by:
//   - a member's name must match a field's exactly: encoding/json matched
//     "PACKAGE" to "package";
//   - a name may appear once: encoding/json let the last "package" win;
//   - strings must be valid UTF-8, escapes included: encoding/json turned
//     invalid bytes, and a lone surrogate escape such as \ud800, into
//     U+FFFD, storing something the caller never sent;
//   - nothing may follow the object: encoding/json's More missed a stray
//     "]" or "}" after it.
func decodeBody(body []byte, v any) error {
	if !utf8.Valid(body) {
		return newError(http.StatusBadRequest, "invalid_json", "The request body must be JSON encoded as UTF-8.")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	value, err := dec.ReadValue()
	if err != nil {
		return newError(http.StatusBadRequest, "invalid_json", "The request body must be one JSON object: "+jsonProblem(err)+".")
	}
	value = value.Clone() // the decoder's buffer, which reading on reuses
	if _, err := dec.ReadToken(); err != io.EOF {
		return newError(http.StatusBadRequest, "invalid_json", "The request body must hold one JSON object, and nothing after it.")
	}
	if err := jsonv2.Unmarshal(value, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return newError(http.StatusBadRequest, "invalid_json",
			"The request body must be a JSON object with the documented fields: "+jsonProblem(err)+".")
	}
	return nil
}

// jsonProblem is a decoding error as a caller reads it: what was wrong and
// where, less the Go package's name and Go's type names.
func jsonProblem(err error) string {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends too soon"
	case errors.As(err, &syn) && syn.Err != nil:
		return where(syn.Err.Error(), string(syn.JSONPointer))
	case errors.As(err, &sem) && errors.Is(sem.Err, jsonv2.ErrUnknownName):
		return where("unknown member", string(sem.JSONPointer))
	case errors.As(err, &sem) && sem.JSONKind != 0 && sem.JSONPointer == "":
		return "the body is " + jsonKind(sem.JSONKind) + ", not an object"
	case errors.As(err, &sem) && sem.JSONKind == '0' && len(sem.JSONValue) > 0:
		return "the number " + string(sem.JSONValue) + " does not fit the member " + strconv.Quote(string(sem.JSONPointer))
	case errors.As(err, &sem) && sem.JSONKind != 0:
		return "the member " + strconv.Quote(string(sem.JSONPointer)) + " cannot be " + jsonKind(sem.JSONKind)
	case errors.As(err, &sem) && sem.Err != nil:
		return where(sem.Err.Error(), string(sem.JSONPointer))
	}
	return "it could not be read"
}

// jsonKind names a kind of JSON value.
func jsonKind(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "this value"
}

// where names the member a problem is at, by its JSON pointer.
func where(problem, pointer string) string {
	if pointer == "" {
		return problem
	}
	return problem + " at " + strconv.Quote(pointer)
}
