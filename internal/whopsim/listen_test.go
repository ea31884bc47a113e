package whopsim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

func TestEndpointsGetEveryNewEventWithTheirOwnSecret(t *testing.T) {
	b := setup(t)
	other, refunds := whopsimtest.NewReceiver(t), whopsimtest.NewReceiver(t)
	secret := b.Sim.NewWebhookSecret()
	ep, err := b.Sim.AddEndpoint(whopsim.Endpoint{URL: other.URL + "/hook", Secret: secret})
	if err != nil || ep.Scheme != whopsim.Standard || !strings.HasPrefix(ep.ID, "we_") {
		t.Fatalf("endpoint = %+v, %v", ep, err)
	}
	only, err := b.Sim.AddEndpoint(whopsim.Endpoint{URL: refunds.URL, Scheme: whopsim.Legacy, Events: []string{"refund.*"}})
	if err != nil || only.Secret != b.Seed.App.WebhookSecret {
		t.Fatalf("endpoint with the default secret = %+v, %v", only, err)
	}
	b.trigger(whopsim.TriggerRequest{Event: "refund.created"})
	clock := whop.WithWebhookClock(b.clock.Now)

	if n := len(b.hook.Deliveries()); n != 3 {
		t.Errorf("the app's URL got %d deliveries, want 3", n)
	}
	got := other.Deliveries()
	if len(got) != 3 {
		t.Fatalf("the endpoint got %d deliveries, want 3", len(got))
	}
	if _, err := whop.NewWebhookVerifier(b.Seed.App.WebhookSecret, clock).Verify(got[0].Header, got[0].Body); err == nil {
		t.Error("an endpoint's delivery verifies with the app's secret; it must use its own")
	}
	ev, err := whop.NewWebhookVerifier(secret, clock).Verify(got[2].Header, got[2].Body)
	if err != nil || ev.Type != "refund.updated" {
		t.Errorf("endpoint delivery = %+v, %v", ev, err)
	}
	legacy := refunds.Deliveries()
	if len(legacy) != 2 || legacy[0].Header.Get("X-Whop-Signature") == "" {
		t.Fatalf("the refund-only legacy endpoint got %d deliveries", len(legacy))
	}
	if ev, err := whop.NewWebhookVerifier(b.Seed.App.WebhookSecret, clock).Verify(legacy[0].Header, legacy[0].Body); err != nil || ev.Type != "refund.created" {
		t.Errorf("legacy endpoint delivery = %+v, %v", ev, err)
	}
	for _, a := range b.Sim.Deliveries() {
		if a.Endpoint != "" && a.Endpoint != ep.ID && a.Endpoint != only.ID {
			t.Errorf("attempt to unknown endpoint %q", a.Endpoint)
		}
	}

	b.Sim.RemoveEndpoint(ep.ID)
	b.trigger(whopsim.TriggerRequest{Event: "payment.succeeded"})
	if n := len(other.Deliveries()); n != 3 {
		t.Errorf("a removed endpoint got %d deliveries, want still 3", n)
	}
	if eps := b.Sim.Endpoints(); len(eps) != 1 || eps[0].ID != only.ID {
		t.Errorf("endpoints = %+v", eps)
	}
	if _, err := b.Sim.AddEndpoint(whopsim.Endpoint{URL: "localhost:3000/api/webhook"}); err == nil {
		t.Error("a URL without a scheme was accepted")
	}
}

func TestResendKeepsTheWebhookIDOrMakesANewEvent(t *testing.T) {
	b := setup(t)
	res := b.trigger(whopsim.TriggerRequest{Event: "payment.succeeded"})
	first := b.Sim.Deliveries()[0]

	again, err := b.Sim.Resend(first.Delivery, false)
	if err != nil || again.EventID != res.Events[0].ID || again.Delivery <= first.Delivery {
		t.Fatalf("resend = %+v, %v", again, err)
	}
	b.idle()
	fresh, err := b.Sim.Resend(first.Delivery, true)
	if err != nil || fresh.EventID == res.Events[0].ID || fresh.Type != "payment.succeeded" {
		t.Fatalf("resend as new = %+v, %v", fresh, err)
	}
	b.idle()
	got := b.hook.Deliveries()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3", len(got))
	}
	ids := []string{got[0].Header.Get("Webhook-Id"), got[1].Header.Get("Webhook-Id"), got[2].Header.Get("Webhook-Id")}
	if ids[0] != res.Events[0].ID || ids[1] != ids[0] || ids[2] != fresh.EventID {
		t.Errorf("webhook ids = %v, want %s twice then %s", ids, res.Events[0].ID, fresh.EventID)
	}
	if string(got[1].Body) != string(got[0].Body) {
		t.Error("a resend with the same id sent different bytes")
	}
	var a, c map[string]any
	json.Unmarshal(got[0].Body, &a)
	json.Unmarshal(got[2].Body, &c)
	if c["id"] != fresh.EventID || a["data"].(map[string]any)["id"] != c["data"].(map[string]any)["id"] {
		t.Errorf("the new event does not carry the same payment: %v vs %v", a, c)
	}
	for i := range got {
		if _, err := b.verify(i, b.clock.Now()); err != nil {
			t.Errorf("delivery %d does not verify: %v", i, err)
		}
	}
	if _, err := b.Sim.Resend(999, false); err == nil || !strings.Contains(err.Error(), `delivery "999" was not found`) {
		t.Errorf("unknown delivery: %v", err)
	}

	// A delivery to a listener that has gone cannot be resent there.
	rcv := whopsimtest.NewReceiver(t)
	ep, _ := b.Sim.AddEndpoint(whopsim.Endpoint{URL: rcv.URL})
	b.trigger(whopsim.TriggerRequest{Event: "payment.failed"})
	b.Sim.RemoveEndpoint(ep.ID)
	var theirs int64
	for _, a := range b.Sim.Deliveries() {
		if a.Endpoint == ep.ID {
			theirs = a.Delivery
		}
	}
	if _, err := b.Sim.Resend(theirs, false); err == nil || !strings.Contains(err.Error(), "went to a listener that has stopped") {
		t.Errorf("resend to a gone listener: %v", err)
	}
}

// TestListenStream drives POST /_sim/listen as `whopsim listen` does: a
// ready line with the endpoint, then one line per attempt, and the
// endpoint gone once the client is.
func TestListenStream(t *testing.T) {
	b := setup(t, func(o *whopsim.Options) { o.Clock = nil }) // real time: the stream waits on it
	rcv := whopsimtest.NewReceiver(t)
	rcv.Reply(503)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := strings.NewReader(`{"forward_to":["` + rcv.URL + `/a"],"new_secret":true}`)
	req, _ := http.NewRequestWithContext(ctx, "POST", b.URL+"/_sim/listen", body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("listen = %v, %v", resp, err)
	}
	lines := bufio.NewScanner(resp.Body)
	next := func() map[string]any {
		t.Helper()
		for lines.Scan() {
			var m map[string]any
			if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
				t.Fatalf("line %q: %v", lines.Text(), err)
			}
			if m["type"] != "ping" {
				return m
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return nil
	}
	ready := next()
	fields(t, ready, map[string]string{"type": "ready", "endpoints.0.url": rcv.URL + "/a", "endpoints.0.scheme": "standard"})
	secret := str(t, ready, "endpoints.0.secret")
	if !strings.HasPrefix(secret, "ws_") || secret == b.Seed.App.WebhookSecret {
		t.Errorf("new secret = %q", secret)
	}
	epID := str(t, ready, "endpoints.0.id")

	res, err := b.Sim.Trigger(whopsim.TriggerRequest{Event: "payment.succeeded", User: "@alice"})
	if err != nil {
		t.Fatal(err)
	}
	a := next()
	fields(t, a, map[string]string{"type": "attempt", "attempt.event_id": res.Events[0].ID, "attempt.type": "payment.succeeded",
		"attempt.status": "503", "attempt.outcome": "retrying", "attempt.endpoint": epID, "attempt.attempt": "1"})
	got := rcv.Deliveries()
	if ev, err := whop.NewWebhookVerifier(secret).Verify(got[0].Header, got[0].Body); err != nil || ev.ID != res.Events[0].ID {
		t.Errorf("forwarded delivery = %+v, %v", ev, err)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(b.Sim.Endpoints()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if eps := b.Sim.Endpoints(); len(eps) != 0 {
		t.Errorf("endpoints after the listener left: %+v", eps)
	}
}

func TestListenEndsWhenTheSandboxStops(t *testing.T) {
	b := setup(t)
	resp, err := http.Post(b.URL+"/_sim/listen", "application/json", strings.NewReader(`{"forward_to":["http://127.0.0.1:1/x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Scan() // ready
	b.Sim.EndStreams()
	var last string
	for lines.Scan() {
		last = lines.Text()
	}
	if last != `{"type":"closing"}` {
		t.Errorf("last line = %q, want the closing line", last)
	}
}

func TestTokenForCurl(t *testing.T) {
	b := setup(t, func(o *whopsim.Options) { o.Clock = nil })
	status, out := b.api("POST", "/_sim/token", map[string]any{"user_id": "@nina", "ttl_seconds": 3600,
		"experience_id": b.Seed.Creator.ExperienceID})
	if status != 200 {
		t.Fatalf("token = %d %v", status, out)
	}
	fields(t, out, map[string]string{"user_id": b.Seed.NoAccess.ID, "username": "nina", "access_level": "no_access",
		"kid": b.Sim.TokenKID(), "app_id": b.Seed.App.ID})
	env := b.Sim.Env()
	jwkJSON, _ := json.Marshal(env.UserTokenJWK)
	for name, key := range map[string]string{"PEM": env.UserTokenPEM, "JWK": string(jwkJSON)} {
		v, err := whop.NewTokenVerifier(b.Seed.App.ID, whop.WithStaticKey(key))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tok, err := v.Verify(context.Background(), str(t, out, "token"))
		if err != nil || tok.UserID != b.Seed.NoAccess.ID || time.Until(tok.ExpiresAt) < 59*time.Minute {
			t.Errorf("%s verifies %+v, %v", name, tok, err)
		}
	}
	for body, want := range map[string]int{
		`{"user_id":"@ghost"}`: 404, `{"ttl_seconds":90000}`: 400, `{"experience_id":"` + b.Seed.Creator.ID + `"}`: 404,
	} {
		if status, out := b.api("POST", "/_sim/token", body); status != want {
			t.Errorf("%s = %d %v, want %d", body, status, out, want)
		}
	}
}

func TestTokenKeyOutlivesARestartWithAStateFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	first, err := whopsim.New(whopsim.Options{StateFile: file})
	if err != nil {
		t.Fatal(err)
	}
	pem, kid := first.Env().UserTokenPEM, first.TokenKID()
	first.Reset()
	if first.Env().UserTokenPEM != pem {
		t.Error("a reset changed the token key")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := whopsim.New(whopsim.Options{StateFile: file})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if second.Env().UserTokenPEM != pem || second.TokenKID() != kid || !second.Env().KeySaved {
		t.Error("the restarted sandbox signs with another key")
	}
	other, _ := whopsim.New(whopsim.Options{})
	defer other.Close()
	if other.Env().UserTokenPEM == pem || other.Env().KeySaved {
		t.Error("a sandbox without a state file reused a saved key")
	}
}
