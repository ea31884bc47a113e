package whop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// maxResponse bounds how much of a response is read; Whop's largest
	// pages are far smaller, and a runaway body must not exhaust memory.
	maxResponse = 16 << 20
	// maxBackoff caps the doubling backoff, as Whop's official client does.
	maxBackoff = 8 * time.Second
	// maxServerWait is the longest Retry-After obeyed; a longer one is
	// treated as absent, since holding a request open for minutes helps no one.
	maxServerWait = 60 * time.Second
)

// request is one API call before it is sent.
type request struct {
	method         string
	url            string
	query          url.Values
	body           any // marshalled to JSON when non-nil
	idempotencyKey string
}

// retryable reports whether sending the request twice is harmless: reads,
// and writes that Whop deduplicates by their Idempotency-Key.
func (r *request) retryable() bool {
	return r.method == http.MethodGet || r.idempotencyKey != ""
}

// do sends req, retrying where safe, and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, req request, out any) error {
	var payload []byte
	if req.body != nil {
		var err error
		if payload, err = json.Marshal(req.body); err != nil {
			return fmt.Errorf("whop: encode request: %w", err)
		}
	}
	target := req.url
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	path := strings.TrimPrefix(req.url, c.rootURL)

	for attempt := 0; ; attempt++ {
		body, resp, err := c.send(ctx, req, target, payload)
		if err == nil && resp.StatusCode/100 == 2 {
			if out == nil || len(bytes.TrimSpace(body)) == 0 {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("whop: %s %s: decode response: %w", req.method, path, err)
			}
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("whop: %s %s: %w", req.method, path, ctxErr)
		}

		var wait time.Duration
		retry := req.retryable() && attempt < c.maxRetries
		if err != nil {
			err = fmt.Errorf("whop: %s %s: %w", req.method, path, err)
		} else {
			apiErr := newAPIError(resp, body, req.method, path, c.now())
			err = apiErr
			retry = retry && shouldRetry(resp)
			wait = apiErr.RetryAfter
		}
		if !retry {
			return err
		}
		if wait <= 0 || wait > maxServerWait {
			wait = c.jitter(c.backoffFor(attempt))
		}
		if deadline, ok := ctx.Deadline(); ok && c.now().Add(wait).After(deadline) {
			return err // the retry could not finish in time; report the real failure
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "whop: retrying request",
			slog.String("method", req.method), slog.String("path", path),
			slog.Int("attempt", attempt+1), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if sleepErr := c.sleep(ctx, wait); sleepErr != nil {
			return fmt.Errorf("%w (after: %w)", sleepErr, err)
		}
	}
}

// backoffFor doubles the base delay per attempt up to maxBackoff, without
// letting the shift overflow for large retry counts.
func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.backoff
	for i := 0; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// send performs one HTTP exchange and reads the whole body.
func (c *Client) send(ctx context.Context, req request, target string, payload []byte) ([]byte, *http.Response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return nil, nil, err
	}
	hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if c.appID != "" {
		hreq.Header.Set("X-Whop-App-Id", c.appID)
	}
	if c.apiVersion != "" {
		hreq.Header.Set("Api-Version-Date", c.apiVersion)
	}
	if req.idempotencyKey != "" {
		hreq.Header.Set("Idempotency-Key", req.idempotencyKey)
	}
	resp, err := c.httpClient.Do(hreq)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read response: %w", err)
	}
	if len(data) > maxResponse {
		return nil, nil, errors.New("response larger than 16 MiB")
	}
	return data, resp, nil
}

// shouldRetry follows Whop's official client: the server's x-should-retry
// wins; otherwise timeouts, conflicts (an idempotent twin still in flight),
// rate limits and server errors are worth another try.
func shouldRetry(resp *http.Response) bool {
	switch resp.Header.Get("X-Should-Retry") {
	case "true":
		return true
	case "false":
		return false
	}
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusConflict,
		code == http.StatusTooManyRequests, code >= 500:
		return true
	}
	return false
}

// retryAfter reads retry-after-ms, then Retry-After as seconds or an HTTP
// date. It returns zero when neither is present or usable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if ms := h.Get("Retry-After-Ms"); ms != "" {
		if d, ok := positiveDuration(ms, time.Millisecond); ok {
			return d
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if d, ok := positiveDuration(v, time.Second); ok {
		return d
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// positiveDuration parses a decimal count of unit. Values beyond a day are
// refused before conversion so that "1e300" or "Inf" cannot overflow.
func positiveDuration(s string, unit time.Duration) (time.Duration, bool) {
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(n > 0) || n*float64(unit) > float64(24*time.Hour) {
		return 0, false
	}
	return time.Duration(n * float64(unit)), true
}
