package whop

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// failThen answers the first n requests with status and headers, then with
// body.
func failThen(n int32, status int, hdr map[string]string, body string) http.HandlerFunc {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			for k, v := range hdr {
				w.Header().Set(k, v)
			}
			reply(w, status, `{"error":{"type":"rate_limit_exceeded","message":"Try again in 3 seconds."}}`)
			return
		}
		reply(w, http.StatusOK, body)
	}
}

func TestRetriesHonourServerWaits(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		hdr    map[string]string
		want   []time.Duration
	}{
		{"429 Retry-After seconds", 429, map[string]string{"Retry-After": "3"}, []time.Duration{3 * time.Second, 3 * time.Second}},
		{"503 Retry-After seconds", 503, map[string]string{"Retry-After": "7"}, []time.Duration{7 * time.Second, 7 * time.Second}},
		{"retry-after-ms wins", 429, map[string]string{"Retry-After": "9", "Retry-After-Ms": "1500"}, []time.Duration{1500 * time.Millisecond, 1500 * time.Millisecond}},
		{"HTTP date", 503, map[string]string{"Retry-After": now.Add(4 * time.Second).Format(http.TimeFormat)}, []time.Duration{4 * time.Second, 4 * time.Second}},
		{"no header: exponential backoff", 500, nil, []time.Duration{500 * time.Millisecond, time.Second}},
		{"absurd Retry-After: backoff instead", 429, map[string]string{"Retry-After": "3600"}, []time.Duration{500 * time.Millisecond, time.Second}},
		{"408", 408, nil, []time.Duration{500 * time.Millisecond, time.Second}},
		{"409", 409, nil, []time.Duration{500 * time.Millisecond, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := setup(t, failThen(2, tt.status, tt.hdr, `{"id":"user_1"}`), WithClock(func() time.Time { return now }))
			u, err := c.GetUser(t.Context(), "user_1")
			if err != nil || u.ID != "user_1" {
				t.Fatalf("GetUser = %+v, %v", u, err)
			}
			if n := len(f.requests()); n != 3 {
				t.Errorf("made %d requests, want 3", n)
			}
			if got := f.waits(); !slices.Equal(got, tt.want) {
				t.Errorf("waits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetriesGiveUpAfterMax(t *testing.T) {
	c, f := setup(t, failThen(100, 503, map[string]string{"Retry-After": "1", "X-Request-Id": "req_9"}, ""), WithRetry(3, 100*time.Millisecond))
	_, err := c.GetPayment(t.Context(), "pay_1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.RequestID != "req_9" || apiErr.RetryAfter != time.Second {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, ErrServer) || !errors.Is(err, ErrRateLimited) { // the body says rate_limit_exceeded
		t.Errorf("errors.Is mapping failed for %v", err)
	}
	if n := len(f.requests()); n != 4 {
		t.Errorf("made %d requests, want 1 + 3 retries", n)
	}
}

func TestBackoffDoublesAndCaps(t *testing.T) {
	c, f := setup(t, failThen(100, 500, nil, ""), WithRetry(6, time.Second))
	_, _ = c.GetUser(t.Context(), "u")
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	if got := f.waits(); !slices.Equal(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestNoRetryForUnsafeOrFinalAnswers(t *testing.T) {
	tests := []struct {
		name string
		call func(*Client) error
		hdr  map[string]string
		code int
		want int // requests made
	}{
		{"POST without idempotency key", func(c *Client) error {
			_, err := c.CreateCheckoutConfiguration(context.Background(), CheckoutConfigurationParams{PlanID: "plan_1"})
			return err
		}, nil, 503, 1},
		{"refund (no key)", func(c *Client) error {
			_, err := c.RefundPayment(context.Background(), "pay_1", RefundParams{})
			return err
		}, map[string]string{"Retry-After": "1"}, 429, 1},
		{"refund with idempotency key", func(c *Client) error {
			_, err := c.RefundPayment(context.Background(), "pay_1", RefundParams{IdempotencyKey: "refund-1"})
			return err
		}, nil, 503, 3},
		{"POST with idempotency key", func(c *Client) error {
			_, err := c.CreateCheckoutConfiguration(context.Background(), CheckoutConfigurationParams{PlanID: "plan_1", IdempotencyKey: "k"})
			return err
		}, nil, 503, 3},
		{"transfer (always keyed)", func(c *Client) error {
			_, err := c.CreateTransfer(context.Background(), TransferParams{Amount: 1, Currency: money.USD, OriginID: "a", DestinationID: "b", IdempotenceKey: "k"})
			return err
		}, nil, 503, 3},
		{"404 is final", func(c *Client) error { _, err := c.GetPayment(context.Background(), "pay_1"); return err }, nil, 404, 1},
		{"400 is final", func(c *Client) error { _, err := c.GetPayment(context.Background(), "pay_1"); return err }, nil, 400, 1},
		{"x-should-retry false", func(c *Client) error { _, err := c.GetPayment(context.Background(), "pay_1"); return err },
			map[string]string{"X-Should-Retry": "false"}, 503, 1},
		{"x-should-retry true on 400", func(c *Client) error { _, err := c.GetPayment(context.Background(), "pay_1"); return err },
			map[string]string{"X-Should-Retry": "true"}, 400, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := setup(t, failThen(100, tt.code, tt.hdr, "{}"))
			if err := tt.call(c); err == nil {
				t.Fatal("call succeeded against a failing server")
			}
			if n := len(f.requests()); n != tt.want {
				t.Errorf("made %d requests, want %d", n, tt.want)
			}
		})
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c, f := setup(t, failThen(100, 503, nil, ""), WithSleep(func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while we wait
		<-ctx.Done()
		return ctx.Err()
	}))
	_, err := c.GetPayment(ctx, "pay_1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Errorf("the last API error is lost: %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("made %d requests after cancel, want 1", n)
	}
}

func TestDeadlineTooCloseForRetry(t *testing.T) {
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(time.Hour))
	defer cancel()
	deadline, _ := ctx.Deadline()
	// The fake clock sits 2 s before the deadline; the server asks for 5 s.
	c, f := setup(t, failThen(100, 429, map[string]string{"Retry-After": "5"}, ""),
		WithClock(func() time.Time { return deadline.Add(-2 * time.Second) }))
	_, err := c.GetPayment(ctx, "pay_1")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want the 429", err)
	}
	if len(f.waits()) != 0 || len(f.requests()) != 1 {
		t.Errorf("waited %v over %d requests; a wait past the deadline is pointless", f.waits(), len(f.requests()))
	}
}

func TestConnectionErrorsAreRetried(t *testing.T) {
	c, f := setup(t, replyJSON("{}"))
	f.srv.Close() // every attempt now fails to connect
	_, err := c.GetPayment(t.Context(), "pay_1")
	if err == nil || errors.As(err, new(*APIError)) {
		t.Fatalf("err = %v, want a transport error", err)
	}
	if got := f.waits(); len(got) != 2 {
		t.Errorf("waits = %v, want two retries", got)
	}
}

func TestLogsNeverCarryTheKey(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := setup(t, failThen(100, 500, nil, ""), WithLogger(logger))
	_, err := c.GetPayment(t.Context(), "pay_1")
	if buf.Len() == 0 {
		t.Fatal("retries were not logged")
	}
	if strings.Contains(buf.String(), testAPIKey) || strings.Contains(err.Error(), testAPIKey) {
		t.Errorf("the API key leaked: %s / %v", buf.String(), err)
	}
}

func TestBackoffForManyAttempts(t *testing.T) {
	c := New("k", WithRetry(1000, 300*time.Millisecond))
	for _, attempt := range []int{0, 1, 5, 63, 64, 200} {
		if d := c.backoffFor(attempt); d <= 0 || d > maxBackoff {
			t.Errorf("backoffFor(%d) = %v", attempt, d)
		}
	}
}
