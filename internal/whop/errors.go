package whop

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinels that an *APIError matches with errors.Is, by HTTP status, so
// callers decide on outcomes without parsing Whop's several error shapes.
var (
	ErrBadRequest   = errors.New("whop: bad request")  // 400, 422
	ErrUnauthorized = errors.New("whop: unauthorized") // 401: the API key is wrong or revoked
	ErrForbidden    = errors.New("whop: forbidden")    // 403: the key lacks a permission
	ErrNotFound     = errors.New("whop: not found")    // 404, also briefly for a brand-new payment
	ErrConflict     = errors.New("whop: conflict")     // 409, e.g. an idempotent request still in flight
	ErrRateLimited  = errors.New("whop: rate limited") // 429
	ErrServer       = errors.New("whop: server error") // 5xx
)

// ErrInvalidArgument reports a call refused before any request was sent,
// such as an empty id or a transfer without an idempotence key.
var ErrInvalidArgument = errors.New("whop: invalid argument")

// APIError is a non-2xx answer from Whop, decoded from whichever error shape
// the API generation uses: v1 {"error":{"code"|"type","message"}}, v2
// {"error":{"status","message"}}, v5 {"message"}, GraphQL {"errors":[…]}, or
// plain text.
type APIError struct {
	StatusCode int
	Method     string // the request's method and path, for logs
	Path       string
	Code       string // v1 "code" (e.g. "invalid_request") or v2 "status"
	Type       string // v1 "type" (e.g. "rate_limit_exceeded" on 429)
	Message    string
	RequestID  string        // Whop's request id header, for support tickets
	RetryAfter time.Duration // what the server asked for, zero if nothing
}

// Error describes the failure without echoing anything from the request
// except method and path, which never carry secrets.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("whop: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if kind := cmp.Or(e.Code, e.Type); kind != "" {
		b.WriteString(" (" + kind + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// Is maps the status code to the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || e.Type == "rate_limit_exceeded"
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

// maxErrorMessage bounds a message copied from a response body, so an HTML
// error page from a proxy cannot flood the logs.
const maxErrorMessage = 512

// newAPIError decodes an error response. It never fails: whatever the body
// is, the status code alone is enough to decide.
func newAPIError(resp *http.Response, body []byte, method, path string, now time.Time) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     method,
		Path:       path,
		RequestID:  cmp.Or(resp.Header.Get("X-Request-Id"), resp.Header.Get("Request-Id")),
		RetryAfter: retryAfter(resp.Header, now),
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var shape struct {
			Error   json.RawMessage `json:"error"`
			Message flexString      `json:"message"`
			Errors  []struct {
				Message flexString `json:"message"`
			} `json:"errors"`
		}
		if json.Unmarshal(trimmed, &shape) == nil {
			var inner struct {
				Code    flexString `json:"code"`
				Type    flexString `json:"type"`
				Status  flexString `json:"status"`
				Message flexString `json:"message"`
			}
			var text string
			switch {
			case json.Unmarshal(shape.Error, &inner) == nil && len(shape.Error) > 0 && shape.Error[0] == '{':
				e.Code = cmp.Or(string(inner.Code), string(inner.Status))
				e.Type = string(inner.Type)
				e.Message = string(inner.Message)
			case json.Unmarshal(shape.Error, &text) == nil:
				e.Message = text
			}
			if e.Message == "" {
				e.Message = string(shape.Message)
			}
			if e.Message == "" && len(shape.Errors) > 0 {
				e.Message = string(shape.Errors[0].Message)
			}
			e.Message = clip(e.Message)
			return e
		}
	}
	e.Message = clip(string(trimmed))
	return e
}

func clip(s string) string {
	if len(s) <= maxErrorMessage {
		return s
	}
	// Cut before the rune that straddles the limit, and only that one: an
	// invalid byte earlier in the body is Whop's, not a cut of ours.
	n := maxErrorMessage
	for n > maxErrorMessage-utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
