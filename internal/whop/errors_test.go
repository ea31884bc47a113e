package whop

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAPIErrorShapes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		ctype     string
		body      string
		code, typ string
		message   string
		is        error
	}{
		{"v1 code", 400, "application/json", `{"error":{"code":"invalid_request","message":"plan_id is invalid"}}`,
			"invalid_request", "", "plan_id is invalid", ErrBadRequest},
		{"v1 rate limit type", 429, "application/json", `{"error":{"type":"rate_limit_exceeded","message":"Try again in 12 seconds."}}`,
			"", "rate_limit_exceeded", "Try again in 12 seconds.", ErrRateLimited},
		{"v2 status", 404, "application/json", `{"error":{"status":404,"message":"Payment not found"}}`,
			"404", "", "Payment not found", ErrNotFound},
		{"v5 message", 401, "application/json", `{"message":"You are not authorized"}`, "", "", "You are not authorized", ErrUnauthorized},
		{"graphql errors", 403, "application/json", `{"errors":[{"message":"missing permission"}],"data":null}`,
			"", "", "missing permission", ErrForbidden},
		{"error as string", 409, "application/json", `{"error":"idempotency_request_in_progress"}`, "", "", "idempotency_request_in_progress", ErrConflict},
		{"plain text", 502, "text/plain", "Bad Gateway\n", "", "", "Bad Gateway", ErrServer},
		{"empty", 422, "", "", "", "", "", ErrBadRequest},
		// A proxy's HTML page is kept only up to maxErrorMessage bytes.
		{"html", 500, "text/html", "<html>" + strings.Repeat("x", 2000) + "</html>", "", "",
			"<html>" + strings.Repeat("x", maxErrorMessage-len("<html>")) + "…", ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.Header().Set("X-Request-Id", "req_1")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}, WithRetry(0, 0))
			_, err := c.GetPayment(t.Context(), "pay_1")
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, not an *APIError", err)
			}
			if e.StatusCode != tt.status || e.Code != tt.code || e.Type != tt.typ || e.RequestID != "req_1" ||
				e.Method != "GET" || e.Path != "/api/v1/payments/pay_1" {
				t.Errorf("APIError = %+v", e)
			}
			if e.Message != tt.message {
				t.Errorf("Message = %q, want %q", e.Message, tt.message)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			for _, other := range []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrRateLimited, ErrServer} {
				if other != tt.is && errors.Is(err, other) {
					t.Errorf("also matches %v", other)
				}
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	e := &APIError{StatusCode: 404, Method: "GET", Path: "/api/v1/payments/pay_1", Code: "not_found", Message: "gone", RequestID: "req_1"}
	if got := e.Error(); got != "whop: GET /api/v1/payments/pay_1: 404 Not Found (not_found): gone [request req_1]" {
		t.Errorf("Error() = %q", got)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		hdr  map[string]string
		want time.Duration
	}{
		{map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{map[string]string{"Retry-After-Ms": "250"}, 250 * time.Millisecond},
		{map[string]string{"Retry-After-Ms": "junk", "Retry-After": "1"}, time.Second},
		{map[string]string{"Retry-After": now.Add(10 * time.Second).Format(http.TimeFormat)}, 10 * time.Second},
		{map[string]string{"Retry-After": now.Add(-10 * time.Second).Format(http.TimeFormat)}, 0},
		{map[string]string{"Retry-After": "-1"}, 0},
		{map[string]string{"Retry-After": "NaN"}, 0},
		{map[string]string{"Retry-After": "1e300"}, 0},
		{map[string]string{"Retry-After": "Inf"}, 0},
		{map[string]string{"Retry-After": "soon"}, 0},
		{nil, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.hdr {
			h.Set(k, v)
		}
		if got := retryAfter(h, now); got != tt.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tt.hdr, got, tt.want)
		}
	}
}

func TestBaseURLDerivation(t *testing.T) {
	tests := []struct{ base, v1, v5 string }{
		{"", "https://api.whop.com/api/v1/payments", "https://api.whop.com/api/v5/app/payments"},
		{"http://localhost:8003/api/v1/", "http://localhost:8003/api/v1/payments", "http://localhost:8003/api/v5/app/payments"},
		{"https://sandbox-api.whop.com/api/v1", "https://sandbox-api.whop.com/api/v1/payments", "https://sandbox-api.whop.com/api/v5/app/payments"},
		{"http://proxy/whop", "http://proxy/whop/payments", "http://proxy/whop/api/v5/app/payments"},
	}
	for _, tt := range tests {
		var opts []Option
		if tt.base != "" {
			opts = append(opts, WithBaseURL(tt.base))
		}
		c := New("k", opts...)
		if got := c.v1("/payments"); got != tt.v1 {
			t.Errorf("%q: v1 = %q, want %q", tt.base, got, tt.v1)
		}
		if got := c.legacy("/v5/app/payments"); got != tt.v5 {
			t.Errorf("%q: v5 = %q, want %q", tt.base, got, tt.v5)
		}
	}
}

func TestOptionalHeaders(t *testing.T) {
	c, f := setup(t, replyJSON(`{"id":"biz_1"}`), WithAPIVersionDate("2025-12-01"), WithUserAgent("creditkit/1"))
	if _, err := c.GetCompany(t.Context(), "biz_1"); err != nil {
		t.Fatal(err)
	}
	r := only(t, f)
	if r.Header.Get("Api-Version-Date") != "2025-12-01" || r.Header.Get("User-Agent") != "creditkit/1" || r.Header.Get("Idempotency-Key") != "" {
		t.Errorf("headers = %v", r.Header)
	}
}
