package whopsim_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// start is when every test's manual clock begins.
var start = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// bundle is a sandbox on a manual clock with a webhook receiver.
type bundle struct {
	*whopsimtest.Env
	t     *testing.T
	clock *whopsim.ManualClock
	hook  *whopsimtest.Receiver
}

// setup starts a sandbox whose ids, time and deliveries are predictable;
// change adjusts the options first.
func setup(t *testing.T, change ...func(*whopsim.Options)) *bundle {
	t.Helper()
	b := &bundle{t: t, clock: whopsim.NewManualClock(start), hook: whopsimtest.NewReceiver(t)}
	opts := whopsim.Options{Clock: b.clock, Random: rand.NewChaCha8([32]byte{1, 2, 3}),
		PaymentDelay: -1, WebhookURL: b.hook.URL}
	for _, f := range change {
		f(&opts)
	}
	b.Env = whopsimtest.Start(t, whopsimtest.Config{Options: opts})
	return b
}

// do sends a request to the sandbox's main handler and decodes a JSON reply
// (numbers kept as written, so "9.99" is asserted as Whop wrote it).
func (b *bundle) do(method, path string, body any, header ...string) (int, any, http.Header) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			enc, err := json.Marshal(body)
			if err != nil {
				b.t.Fatal(err)
			}
			raw = string(enc)
		}
		rd = strings.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out any
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			b.t.Fatalf("%s %s: body is not JSON (%v): %s", method, path, err, raw)
		}
	}
	return res.StatusCode, out, res.Header
}

// api is do with the app's API key.
func (b *bundle) api(method, path string, body any, header ...string) (int, any) {
	b.t.Helper()
	status, out, _ := b.do(method, path, body, append([]string{"Authorization", "Bearer " + b.Seed.App.APIKey}, header...)...)
	return status, out
}

// mustAPI is api that fails the test on a non-200.
func (b *bundle) mustAPI(method, path string, body any) any {
	b.t.Helper()
	status, out := b.api(method, path, body)
	if status != http.StatusOK {
		b.t.Fatalf("%s %s = %d %v, want 200", method, path, status, out)
	}
	return out
}

// inlineCheckout creates a one-time inline-plan checkout on the app owner's
// company for price (major units) with metadata.
func (b *bundle) inlineCheckout(price string, metadata map[string]any) (checkoutID, planID string) {
	b.t.Helper()
	out := b.mustAPI("POST", "/api/v1/checkout_configurations", map[string]any{
		"plan":     map[string]any{"company_id": b.Seed.Owner.ID, "currency": "usd", "initial_price": json.Number(price), "plan_type": "one_time"},
		"metadata": metadata,
	})
	return str(b.t, out, "id"), str(b.t, out, "plan.id")
}

// buy pays for a new inline checkout as alice and returns the payment id.
func (b *bundle) buy(price string, metadata map[string]any) (paymentID, checkoutID string) {
	b.t.Helper()
	co, plan := b.inlineCheckout(price, metadata)
	res, err := b.Sim.Pay(whopsim.Purchase{CheckoutID: co, PlanID: plan, UserID: b.Seed.Members[0].ID})
	if err != nil {
		b.t.Fatal(err)
	}
	return res.ReceiptID, co
}

// idle waits for the sender to finish what is due.
func (b *bundle) idle() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Sim.WaitIdle(ctx); err != nil {
		b.t.Fatalf("deliveries did not settle: %v", err)
	}
}

// eventTypes lists the types of the events so far, in order, joined with
// commas, so a test states the whole sequence it expects.
func (b *bundle) eventTypes() string {
	b.t.Helper()
	var types []string
	for _, ev := range b.Sim.Events() {
		types = append(types, ev.Type)
	}
	return strings.Join(types, ",")
}

// at walks a decoded JSON value along a dotted path ("data.0.user.id").
func at(t *testing.T, v any, path string) any {
	t.Helper()
	for _, key := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[key]
			if !ok {
				t.Fatalf("%s: no key %q in %v", path, key, node)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i >= len(node) {
				t.Fatalf("%s: no index %q in a list of %d", path, key, len(node))
			}
			v = node[i]
		default:
			t.Fatalf("%s: cannot look up %q in %T", path, key, v)
		}
	}
	return v
}

// str is at for a string (or number, as written).
func str(t *testing.T, v any, path string) string {
	t.Helper()
	switch x := at(t, v, path).(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case nil:
		return "<null>"
	default:
		return fmt.Sprint(x)
	}
}

// fields asserts every path: value pair of want against v.
func fields(t *testing.T, v any, want map[string]string) {
	t.Helper()
	for path, w := range want {
		if got := str(t, v, path); got != w {
			t.Errorf("%s = %q, want %q", path, got, w)
		}
	}
}

// whopPurchase names a checkout and its plan, bought by the selected user.
func whopPurchase(checkoutID, planID string) whopsim.Purchase {
	return whopsim.Purchase{CheckoutID: checkoutID, PlanID: planID}
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// decodeSegment decodes one base64url JWT segment.
func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
