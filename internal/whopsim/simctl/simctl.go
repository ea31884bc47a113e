// Package simctl is a client of a running sandbox's control API (/_sim/),
// for the whopsim subcommands (trigger, listen, deliveries, resend, token,
// env) and for tests and tools in Go that drive a sandbox in another
// process.
package simctl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// DefaultURL is where `whopsim serve` and `make dev` run the sandbox.
const DefaultURL = "http://localhost:8003"

// NoSandboxError means nothing that looks like a sandbox answered at URL.
type NoSandboxError struct {
	URL   string
	Cause error
}

// Error says what to do about it.
func (e *NoSandboxError) Error() string {
	return fmt.Sprintf("no sandbox answers at %s — start one with `whopsim serve` or `make dev`, or pass --sandbox URL", e.URL)
}

// Unwrap returns what went wrong underneath (a refused connection, a 404).
func (e *NoSandboxError) Unwrap() error { return e.Cause }

// Error is a refusal from the control API, in the sandbox's words.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error is the sandbox's message.
func (e *Error) Error() string { return e.Message }

// Client talks to one sandbox.
type Client struct {
	base string
	hc   *http.Client
}

// New returns a client of the sandbox at baseURL (DefaultURL if empty).
// hc may be nil; requests other than Listen time out after 90 s.
func New(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultURL
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

// URL is the sandbox's base URL.
func (c *Client) URL() string { return c.base }

// call sends a JSON request and decodes a JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

// send makes a request and turns a refusal into *Error and a missing
// sandbox into *NoSandboxError; the caller closes a 200's body.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, &NoSandboxError{URL: c.base, Cause: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &NoSandboxError{URL: c.base, Cause: err}
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error.Message == "" {
		// Not the control API's error shape: something else is listening.
		return nil, &NoSandboxError{URL: c.base, Cause: fmt.Errorf("%s %s: %s", method, path, resp.Status)}
	}
	return nil, &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
}

// Env is what an app needs to use the sandbox.
func (c *Client) Env(ctx context.Context) (whopsim.EnvInfo, error) {
	var out whopsim.EnvInfo
	err := c.call(ctx, http.MethodGet, "/_sim/env", nil, &out)
	return out, err
}

// Trigger makes an event happen (see whopsim.TriggerEvents).
func (c *Client) Trigger(ctx context.Context, req whopsim.TriggerRequest) (whopsim.TriggerResult, error) {
	var out whopsim.TriggerResult
	err := c.call(ctx, http.MethodPost, "/_sim/trigger", req, &out)
	return out, err
}

// TokenRequest asks for a user token; every field is optional.
type TokenRequest struct {
	User         string             `json:"user_id,omitempty"` // an id or @username
	ExperienceID string             `json:"experience_id,omitempty"`
	TTLSeconds   int64              `json:"ttl_seconds,omitempty"`
	Fault        whopsim.TokenFault `json:"fault,omitempty"`
}

// Token is a minted user token and what it says.
type Token struct {
	Token        string `json:"token"`
	UserID       string `json:"user_id"`
	Username     string `json:"username"`
	AppID        string `json:"app_id"`
	KeyID        string `json:"kid"`
	ExpiresAt    string `json:"expires_at"`
	ExperienceID string `json:"experience_id,omitempty"`
	AccessLevel  string `json:"access_level,omitempty"`
}

// Token mints a user token the way the relay signs them.
func (c *Client) Token(ctx context.Context, req TokenRequest) (Token, error) {
	var out Token
	err := c.call(ctx, http.MethodPost, "/_sim/token", req, &out)
	return out, err
}

// DeliveryQuery narrows a list of attempts; zero values do not narrow.
type DeliveryQuery struct {
	Since    int64 // attempts after this sequence number
	Delivery int64
	EventID  string
	Wait     time.Duration // wait this long for one when there are none
}

// Deliveries lists attempts, oldest first, and the newest sequence number
// the sandbox has (where a later query picks up).
func (c *Client) Deliveries(ctx context.Context, q DeliveryQuery) ([]whopsim.Attempt, int64, error) {
	v := url.Values{}
	if q.Since > 0 {
		v.Set("since", strconv.FormatInt(q.Since, 10))
	}
	if q.Delivery > 0 {
		v.Set("delivery", strconv.FormatInt(q.Delivery, 10))
	}
	if q.EventID != "" {
		v.Set("event_id", q.EventID)
	}
	if q.Wait > 0 {
		v.Set("wait", q.Wait.String())
	}
	var out struct {
		Data    []whopsim.Attempt `json:"data"`
		LastSeq int64             `json:"last_seq"`
	}
	err := c.call(ctx, http.MethodGet, "/_sim/deliveries?"+v.Encode(), nil, &out)
	return out.Data, out.LastSeq, err
}

// Resend sends a delivery again to its endpoint: with the same webhook-id,
// or as a new event when newID is set.
func (c *Client) Resend(ctx context.Context, delivery int64, newID bool) (whopsim.Resent, error) {
	var out whopsim.Resent
	err := c.call(ctx, http.MethodPost, "/_sim/deliveries/"+strconv.FormatInt(delivery, 10)+"/resend",
		map[string]bool{"new_id": newID}, &out)
	return out, err
}

// ListenRequest says where to forward the sandbox's webhooks.
type ListenRequest struct {
	ForwardTo []string       `json:"forward_to"`
	Scheme    whopsim.Scheme `json:"scheme,omitempty"`
	// Secret signs the forwarded deliveries; empty is the app's webhook
	// secret, and NewSecret has the sandbox make a fresh one.
	Secret    string   `json:"secret,omitempty"`
	NewSecret bool     `json:"new_secret,omitempty"`
	Events    []string `json:"events,omitempty"`
}

// ListenEvent is one line of a listen stream: "ready" (Endpoints set),
// "attempt" (Attempt set) or "closing" (the sandbox is stopping).
type ListenEvent struct {
	Type      string             `json:"type"`
	Endpoints []whopsim.Endpoint `json:"endpoints,omitempty"`
	Attempt   *whopsim.Attempt   `json:"attempt,omitempty"`
}

// ErrSandboxStopped ends a Listen whose sandbox stopped or went away.
var ErrSandboxStopped = errors.New("the sandbox stopped")

// Listen forwards the sandbox's new events to req.ForwardTo until ctx ends
// (returning nil) or the sandbox stops (ErrSandboxStopped), calling on for
// each line of the stream but pings.
func (c *Client) Listen(ctx context.Context, req ListenRequest, on func(ListenEvent)) error {
	resp, err := c.send(ctx, http.MethodPost, "/_sim/listen", req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64<<10), 4<<20)
	for lines.Scan() {
		var ev ListenEvent
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
			return fmt.Errorf("the sandbox sent %q: %w", lines.Text(), err)
		}
		switch ev.Type {
		case "ping":
			continue
		case "closing":
			on(ev)
			return ErrSandboxStopped
		}
		on(ev)
	}
	if ctx.Err() != nil {
		return nil
	}
	return ErrSandboxStopped
}
