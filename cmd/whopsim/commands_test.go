package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// sandbox starts a sandbox on free ports whose webhooks go to a receiver.
func sandbox(t *testing.T) (*whopsimtest.Env, *whopsimtest.Receiver) {
	t.Helper()
	rcv := whopsimtest.NewReceiver(t)
	env := whopsimtest.Start(t, whopsimtest.Config{Options: whopsim.Options{WebhookURL: rcv.URL, PaymentDelay: -1}})
	return env, rcv
}

// cli runs a whopsim command against env and returns its stdout, failing
// the test on an error.
func cli(t *testing.T, env *whopsimtest.Env, args ...string) string {
	t.Helper()
	out, errOut, err := cliErr(env, args...)
	if err != nil {
		t.Fatalf("whopsim %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func cliErr(env *whopsimtest.Env, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), append(args, "--sandbox", env.URL), &out, &errOut)
	return out.String(), errOut.String(), err
}

// verified checks a received delivery with the app's secret.
func verified(t *testing.T, env *whopsimtest.Env, d whopsimtest.Delivery) *whop.Event {
	t.Helper()
	ev, err := whop.NewWebhookVerifier(env.Seed.App.WebhookSecret).Verify(d.Header, d.Body)
	if err != nil {
		t.Fatalf("delivery does not verify: %v", err)
	}
	return ev
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

var msgID = regexp.MustCompile(`sent (\S+)\s+(msg_\w+)`)

func TestTriggerCommandSendsASignedDelivery(t *testing.T) {
	env, rcv := sandbox(t)
	out := cli(t, env, "trigger", "payment.succeeded", "--user", "@bob", "--amount", "7.50", "--metadata", "order=42")
	m := msgID.FindAllStringSubmatch(out, -1)
	if len(m) != 1 || m[0][1] != "payment.succeeded" || !strings.Contains(out, "Triggered payment.succeeded for "+env.Seed.Members[1].ID) {
		t.Fatalf("output:\n%s", out)
	}
	waitFor(t, "the delivery", func() bool { return len(rcv.Deliveries()) == 1 })
	d := rcv.Deliveries()[0]
	ev := verified(t, env, d)
	if ev.Type != "payment.succeeded" || ev.ID != m[0][2] || d.Header.Get("Webhook-Id") != m[0][2] {
		t.Errorf("delivery = %+v, want %s", ev, m[0][2])
	}
	var body struct {
		Data struct {
			Total    json.Number       `json:"total"`
			Metadata map[string]string `json:"metadata"`
			User     struct{ Username string }
		}
	}
	json.Unmarshal(d.Body, &body)
	if body.Data.Total != "7.5" || body.Data.Metadata["order"] != "42" || body.Data.User.Username != "bob" {
		t.Errorf("payment = %+v", body.Data)
	}

	// Each kind of event, and its webhook types in order.
	for event, want := range map[string]string{
		"refund.created":         "payment.succeeded,refund.created,refund.updated",
		"dispute.won":            "payment.succeeded,dispute.created,dispute.updated",
		"dispute.lost":           "payment.succeeded,dispute.created,dispute.updated",
		"membership.activated":   "payment.succeeded,membership.activated",
		"membership.deactivated": "membership.deactivated", // carol's seeded premium ends
		"payment.failed":         "payment.failed",
	} {
		out := cli(t, env, "trigger", event, "--user", "@carol")
		var got []string
		for _, m := range msgID.FindAllStringSubmatch(out, -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, ",") != want {
			t.Errorf("trigger %s sent %v, want %s:\n%s", event, got, want, out)
		}
	}
	if _, _, err := cliErr(env, "trigger", "payment.exploded"); err == nil || !strings.Contains(err.Error(), `unknown event "payment.exploded"`) {
		t.Errorf("unknown event: %v", err)
	}
}

func TestListenCommandForwardsAndShowsAttempts(t *testing.T) {
	env, _ := sandbox(t)
	fwd := whopsimtest.NewReceiver(t)
	fwd.Reply(503)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"listen", "--forward-to", fwd.URL + "/hook", "--sandbox", env.URL}, &out, &out)
	}()
	waitFor(t, "listen to be ready", func() bool { return strings.Contains(out.String(), "Waiting for events") })
	if !strings.Contains(out.String(), fwd.URL+"/hook  standard, secret "+env.Seed.App.WebhookSecret+" (the app's WHOP_WEBHOOK_SECRET)") {
		t.Errorf("ready output:\n%s", out.String())
	}
	res, err := env.Sim.Trigger(whopsim.TriggerRequest{Event: "payment.succeeded", User: "@alice"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Events[0].ID
	waitFor(t, "the attempt line", func() bool { return strings.Contains(out.String(), "503 — retrying in 10s") })
	line := regexp.MustCompile(`\d\d:\d\d:\d\d  payment\.succeeded\s+` + id + `  → ` + regexp.QuoteMeta(fwd.URL+"/hook") + `  503 — retrying in 10s`)
	if !line.MatchString(out.String()) {
		t.Errorf("attempt line missing:\n%s", out.String())
	}
	got := fwd.Deliveries()
	if ev := verified(t, env, got[0]); ev.ID != id || ev.Type != "payment.succeeded" {
		t.Errorf("forwarded = %+v", ev)
	}
	if len(env.Sim.Endpoints()) != 1 {
		t.Errorf("endpoints while listening: %+v", env.Sim.Endpoints())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("listen returned %v after Ctrl-C", err)
	}
	waitFor(t, "the endpoint to go", func() bool { return len(env.Sim.Endpoints()) == 0 })

	if _, _, err := cliErr(env, "listen"); err == nil || !strings.Contains(err.Error(), "--forward-to is required") {
		t.Errorf("listen without a URL: %v", err)
	}
}

func TestDeliveriesAndResendKeepTheWebhookID(t *testing.T) {
	env, rcv := sandbox(t)
	res, err := env.Sim.Trigger(whopsim.TriggerRequest{Event: "payment.succeeded"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery", func() bool { return len(rcv.Deliveries()) == 1 })
	waitFor(t, "the attempt", func() bool { return len(env.Sim.Deliveries()) == 1 })
	first := env.Sim.Deliveries()[0]

	out := cli(t, env, "deliveries")
	row := regexp.MustCompile(`(?m)^` + itoa(first.Delivery) + `\s+\d\d:\d\d:\d\d\s+payment\.succeeded\s+` + res.Events[0].ID +
		`\s+` + regexp.QuoteMeta(rcv.URL) + `\s+1\s+200 delivered`)
	if !strings.HasPrefix(out, "DELIVERY  SENT") || !row.MatchString(out) {
		t.Fatalf("deliveries:\n%s", out)
	}

	out = cli(t, env, "resend", itoa(first.Delivery))
	if !strings.Contains(out, "Resent payment.succeeded "+res.Events[0].ID+" to "+rcv.URL+" as delivery ") ||
		!strings.Contains(out, "200 delivered") {
		t.Errorf("resend output:\n%s", out)
	}
	out = cli(t, env, "resend", itoa(first.Delivery), "--new-id")
	got := rcv.Deliveries()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3", len(got))
	}
	a, b, c := verified(t, env, got[0]), verified(t, env, got[1]), verified(t, env, got[2])
	if a.ID != res.Events[0].ID || b.ID != a.ID || c.ID == a.ID || !strings.Contains(out, c.ID) {
		t.Errorf("webhook ids %s, %s, %s; output:\n%s", a.ID, b.ID, c.ID, out)
	}
	if js := cli(t, env, "deliveries", "--json", "--event", c.ID); !strings.Contains(js, `"event_id": "`+c.ID+`"`) ||
		strings.Contains(js, a.ID) {
		t.Errorf("deliveries --json --event:\n%s", js)
	}
	for _, n := range []string{"0", "-1"} {
		if _, _, err := cliErr(env, "deliveries", "--limit", n); err == nil || !strings.Contains(err.Error(), "--limit "+n+": want how many") {
			t.Errorf("deliveries --limit %s: %v", n, err)
		}
	}
	if _, _, err := cliErr(env, "resend", "abc"); err == nil || !strings.Contains(err.Error(), `"abc" is not a delivery number`) {
		t.Errorf("resend abc: %v", err)
	}
	if _, _, err := cliErr(env, "resend", "9999"); err == nil || err.Error() != `delivery "9999" was not found` {
		t.Errorf("resend 9999: %v", err)
	}
}

// TestResendChecksItsFlagsFirst: a --wait longer than the sandbox allows is
// refused before anything is resent, not after.
func TestResendChecksItsFlagsFirst(t *testing.T) {
	env, rcv := sandbox(t)
	if _, err := env.Sim.Trigger(whopsim.TriggerRequest{Event: "payment.succeeded"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the attempt", func() bool { return len(env.Sim.Deliveries()) == 1 })
	first := env.Sim.Deliveries()[0]
	out, _, err := cliErr(env, "resend", itoa(first.Delivery), "--wait", "2m")
	if err == nil || !strings.Contains(err.Error(), "--wait 2m0s: the sandbox waits at most 1m0s") || out != "" {
		t.Errorf("resend --wait 2m = %q, %v; want the flag refused", out, err)
	}
	if n, m := len(env.Sim.Deliveries()), len(rcv.Deliveries()); n != 1 || m != 1 {
		t.Errorf("%d attempts, %d received after a refused resend, want the first alone", n, m)
	}
}

func TestTokenVerifiesWithThePrintedKey(t *testing.T) {
	env, _ := sandbox(t)
	out, errOut, err := cliErr(env, "token", "--user", "@alice", "--experience", env.Seed.Creator.ExperienceID, "--ttl", "1h")
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || strings.Count(raw, ".") != 2 {
		t.Fatalf("stdout is not one JWT: %q", out)
	}
	if !strings.Contains(errOut, "A token for @alice ("+env.Seed.Members[0].ID+")") ||
		!strings.Contains(errOut, "Access to "+env.Seed.Creator.ExperienceID+": customer.") {
		t.Errorf("stderr: %s", errOut)
	}
	var printed struct {
		PEM     string         `json:"user_token_pem"`
		JWK     map[string]any `json:"user_token_jwk"`
		JWKSURL string         `json:"jwks_url"`
		AppID   string         `json:"app_id"`
	}
	if err := json.Unmarshal([]byte(cli(t, env, "env", "--format", "json")), &printed); err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(printed.JWK)
	for name, opt := range map[string]whop.TokenOption{"PEM": whop.WithStaticKey(printed.PEM),
		"JWK": whop.WithStaticKey(string(jwk)), "JWKS": whop.WithJWKSURL(printed.JWKSURL)} {
		v, err := whop.NewTokenVerifier(printed.AppID, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tok, err := v.Verify(context.Background(), raw)
		if err != nil || tok.UserID != env.Seed.Members[0].ID || time.Until(tok.ExpiresAt) < 59*time.Minute {
			t.Errorf("%s: %+v, %v", name, tok, err)
		}
	}
	expired := strings.TrimSpace(cli(t, env, "token", "--fault", "expired"))
	v, _ := whop.NewTokenVerifier(printed.AppID, whop.WithStaticKey(printed.PEM))
	if _, err := v.Verify(context.Background(), expired); err == nil {
		t.Error("an expired token verified")
	}
	if hdr := cli(t, env, "token", "--format", "header"); !strings.HasPrefix(hdr, "X-Whop-User-Token: ey") {
		t.Errorf("header format: %q", hdr)
	}
}

func TestEnvCommandNamesEverything(t *testing.T) {
	env, _ := sandbox(t)
	vars := map[string]string{}
	var comments []string
	for _, l := range strings.Split(cli(t, env, "env"), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			vars[k] = v
		} else if strings.HasPrefix(l, "#") {
			comments = append(comments, l)
		}
	}
	sd := env.Seed
	want := map[string]string{"WHOP_BASE_URL": env.APIBase, "WHOP_API_KEY": sd.App.APIKey, "WHOP_APP_ID": sd.App.ID,
		"NEXT_PUBLIC_WHOP_APP_ID": sd.App.ID, "WHOP_COMPANY_ID": sd.Owner.ID, "WHOP_WEBHOOK_SECRET": sd.App.WebhookSecret,
		"WHOP_USER_TOKEN_JWKS_URL": env.JWKSURL, "PREMIUM_PRODUCT_ID": sd.PremiumProductID, "PREMIUM_PLAN_ID": sd.PremiumPlanID,
		"SANDBOX_ORIGINS": env.URL + "," + env.RelayURL}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s = %q, want %q", k, vars[k], v)
		}
	}
	if len(vars) != len(want) {
		t.Errorf("variables %v, want exactly %v", vars, want)
	}
	all := strings.Join(comments, "\n")
	for _, w := range []string{"# WHOP_USER_TOKEN_PUBLIC_KEY='{", "# -----BEGIN PUBLIC KEY-----", "# -----END PUBLIC KEY-----",
		"kid " + env.Sim.TokenKID(), sd.Creator.ID, sd.Creator.ExperienceID, "2025-01-01, 2026-06-08"} {
		if !strings.Contains(all, w) {
			t.Errorf("env comments lack %q:\n%s", w, all)
		}
	}
}

func TestCommandsSayWhenNoSandboxAnswers(t *testing.T) {
	nobody := "http://" + freeAddr(t)
	for _, args := range [][]string{{"trigger", "payment.succeeded"}, {"listen", "--forward-to", "http://localhost:1/x"},
		{"deliveries"}, {"resend", "1"}, {"token"}, {"env"}} {
		var out bytes.Buffer
		err := run(context.Background(), append(args, "--sandbox", nobody), &out, &out)
		want := "no sandbox answers at " + nobody + " — start one with `whopsim serve` or `make dev`, or pass --sandbox URL"
		if err == nil || err.Error() != want {
			t.Errorf("%v: %v, want %q", args, err, want)
		}
	}
	// Something that is not a sandbox is not taken for one.
	other := whopsimtest.NewReceiver(t)
	other.Reply(http.StatusNotFound)
	err := run(context.Background(), []string{"env", "--sandbox", other.URL}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.HasPrefix(err.Error(), "no sandbox answers at "+other.URL) {
		t.Errorf("env against a plain 404: %v", err)
	}
}

// TestHelpReadsWell: the overview names every command, and each command's
// -h explains it, gives examples and lists its flags, exiting 0.
func TestHelpReadsWell(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for name := range commands {
		if !strings.Contains(out.String(), "whopsim "+name) && name != "serve" {
			t.Errorf("overview does not mention %q:\n%s", name, out.String())
		}
		var help bytes.Buffer
		if err := run(context.Background(), []string{name, "-h"}, &help, &help); err != nil {
			t.Errorf("%s -h: %v", name, err)
		}
		h := help.String()
		if !strings.HasPrefix(h, "Usage: whopsim "+name) || !strings.Contains(h, "Flags:\n") ||
			(name != "serve" && !strings.Contains(h, "Examples:\n")) || len(h) < 400 {
			t.Errorf("%s -h reads:\n%s", name, h)
		}
		if name != "serve" && !strings.Contains(h, "-sandbox string") {
			t.Errorf("%s -h does not offer --sandbox", name)
		}
	}
	err := run(context.Background(), []string{"frobnicate"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %v", err)
	}
	if err := run(context.Background(), []string{"env", "extra"}, &out, &out); err == nil ||
		!strings.Contains(err.Error(), `unexpected argument "extra"`) {
		t.Errorf("env extra: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTokenFaultsSayWhatTheTokenIs: an expired token is said to be expired
// at the exp it carries (in the past), not "valid until" a future time; a
// "missing" token or an unknown fault is an error, not an empty token.
func TestTokenFaultsSayWhatTheTokenIs(t *testing.T) {
	env, _ := sandbox(t)
	out, errOut, err := cliErr(env, "token", "--fault", "expired", "--ttl", "1h")
	if err != nil {
		t.Fatal(err)
	}
	_, payload, _ := strings.Cut(strings.TrimSpace(out), ".")
	payload, _, _ = strings.Cut(payload, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("token %q: %v", out, err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(claims.Exp, 0).UTC()
	if !exp.Before(time.Now()) {
		t.Fatalf("the expired token's exp %s is not in the past", exp)
	}
	if !strings.Contains(errOut, "expired at "+exp.Format("2006-01-02T15:04:05.000Z")) || strings.Contains(errOut, "valid until") {
		t.Errorf("stderr = %q, want it to say the token expired at %s", errOut, exp)
	}
	for _, fault := range []string{"missing", "bogus"} {
		out, _, err := cliErr(env, "token", "--fault", fault)
		if err == nil || out != "" || !strings.Contains(err.Error(), fault) {
			t.Errorf("token --fault %s = %q, %v; want an error naming it and no token", fault, out, err)
		}
	}
}
