package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// checkEnv is a live-like configuration pointed at a sandbox and a
// migrated database, with APP_URL at a server that answers /healthz.
func checkEnv(t *testing.T) (map[string]string, *whopsimtest.Env) {
	t.Helper()
	env := whopsimtest.Start(t, whopsimtest.Config{Options: whopsim.Options{PaymentDelay: -1}})
	db := pgtest.New(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok"))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(app.Close)
	sd := env.Seed
	return map[string]string{
		"DATABASE_URL":             db.URL,
		"WHOP_API_KEY":             sd.App.APIKey,
		"WHOP_APP_ID":              sd.App.ID,
		"WHOP_COMPANY_ID":          sd.Owner.ID,
		"WHOP_WEBHOOK_SECRET":      sd.App.WebhookSecret,
		"WHOP_BASE_URL":            env.APIBase,
		"WHOP_USER_TOKEN_JWKS_URL": env.JWKSURL,
		"PREMIUM_PRODUCT_ID":       sd.PremiumProductID,
		"PREMIUM_PLAN_ID":          sd.PremiumPlanID,
		"APP_URL":                  app.URL,
	}, env
}

func runCheck(t *testing.T, e map[string]string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"check"}, func(k string) string { return e[k] }, &stdout, &stderr)
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q", stderr.String())
	}
	return stdout.String(), err
}

// marks returns the output's ✓ and ✗ lines' "mark name" prefixes.
func marks(out string) (pass, fail []string) {
	for _, l := range strings.Split(out, "\n") {
		name, _, _ := strings.Cut(l, ":")
		switch {
		case strings.HasPrefix(l, "✓ "):
			pass = append(pass, strings.TrimPrefix(name, "✓ "))
		case strings.HasPrefix(l, "✗ "):
			fail = append(fail, strings.TrimPrefix(name, "✗ "))
		}
	}
	return pass, fail
}

func TestCheckAllPassAgainstTheSandbox(t *testing.T) {
	e, env := checkEnv(t)
	out, err := runCheck(t, e)
	if err != nil {
		t.Fatalf("check failed: %v\n%s", err, out)
	}
	sd := env.Seed
	for _, want := range []string{
		"Checking Creditkit against Whop at " + env.APIBase + " (Api-Version-Date 2026-07-01) and Postgres",
		"✓ WHOP_API_KEY: accepted by Whop\n",
		"✓ WHOP_APP_ID: " + sd.App.ID + ` is the key's app ("Creditkit")`,
		"✓ WHOP_COMPANY_ID: " + sd.Owner.ID + " (Creditkit Labs) owns the app",
		"✓ ledger account: " + sd.Owner.LedgerID + " readable, $1,000.00 available",
		"✓ PREMIUM_PRODUCT_ID: " + sd.PremiumProductID + " (Creditkit Premium) belongs to " + sd.Owner.ID,
		"✓ PREMIUM_PLAN_ID: " + sd.PremiumPlanID + " is a plan of " + sd.PremiumProductID,
		"✓ WHOP_USER_TOKEN_JWKS_URL: 1 ES256 key(s) from " + env.JWKSURL,
		"✓ WHOP_WEBHOOK_SECRET: has the shape Whop issues (ws_…)",
		"✓ APP_URL: " + e["APP_URL"] + "/healthz answers (plain http: local only; Whop needs https)",
		"✓ DATABASE_URL: Postgres answers; the schema is current",
		"All 10 checks passed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, sd.App.WebhookSecret) || strings.Contains(out, sd.App.APIKey) {
		t.Error("the output shows a secret")
	}
	if _, fail := marks(out); len(fail) != 0 {
		t.Errorf("✗ lines: %v", fail)
	}
}

// TestCheckFaults: each misconfiguration gives exactly its own ✗ line, the
// advice under it, and a non-zero exit; nothing else fails.
func TestCheckFaults(t *testing.T) {
	e, env := checkEnv(t)
	sd := env.Seed
	otherPlan := creatorPlan(t, env)
	closed := closedURL(t)
	tests := []struct {
		name   string
		set    map[string]string
		line   string // the ✗ line, from its start
		advice string
	}{
		{"wrong key", map[string]string{"WHOP_API_KEY": "apik_not_the_key"},
			"✗ WHOP_API_KEY: Whop refused the key (401)", "copy the app's API key again"},
		{"another app's id", map[string]string{"WHOP_APP_ID": "app_someoneelse1"},
			"✗ WHOP_APP_ID: app_someoneelse1 is not the key's app", "set WHOP_APP_ID to the id of the app WHOP_API_KEY belongs to"},
		{"unknown company", map[string]string{"WHOP_COMPANY_ID": "biz_nobodyhere1"},
			"✗ WHOP_COMPANY_ID: Whop has no company biz_nobodyhere1", "the biz_… in the URL of its dashboard"},
		{"a company that does not own the app", map[string]string{"WHOP_COMPANY_ID": sd.Creator.ID},
			"✗ WHOP_COMPANY_ID: " + sd.Creator.ID + " (Pixel Guild) exists but does not own the app; " + sd.Owner.ID + " does", "set WHOP_COMPANY_ID=" + sd.Owner.ID},
		{"a plan of another company", map[string]string{"PREMIUM_PLAN_ID": otherPlan},
			"✗ PREMIUM_PLAN_ID: " + otherPlan + " belongs to " + sd.Creator.ID + ", not to WHOP_COMPANY_ID " + sd.Owner.ID, "use a plan of the owner company's premium product"},
		{"a product of another company", map[string]string{"PREMIUM_PRODUCT_ID": sd.CommunityProductID},
			"✗ PREMIUM_PRODUCT_ID: " + sd.CommunityProductID + " belongs to " + sd.Creator.ID, "use a product of the company that owns the app"},
		{"unreachable key set", map[string]string{"WHOP_USER_TOKEN_JWKS_URL": closed + "/.well-known/jwks.json"},
			"✗ WHOP_USER_TOKEN_JWKS_URL: no ES256 key from " + closed + "/.well-known/jwks.json", "Whop's key set is https://api.whop.com/.well-known/jwks.json"},
		{"a key set with no ES256 key", map[string]string{"WHOP_USER_TOKEN_JWKS_URL": rsaOnlyJWKS(t)},
			"✗ WHOP_USER_TOKEN_JWKS_URL: no ES256 key from", "check the URL"},
		{"a webhook secret of the wrong shape", map[string]string{"WHOP_WEBHOOK_SECRET": "d3NfdGVzdA=="},
			`✗ WHOP_WEBHOOK_SECRET: does not have the shape Whop issues (12 characters, starting "")`, "ws_ followed by hex digits"},
		{"APP_URL not answering", map[string]string{"APP_URL": closed},
			"✗ APP_URL: " + closed + "/healthz did not answer", "deploy the app there first"},
		{"schema behind", map[string]string{"DATABASE_URL": pgtest.NewEmpty(t).URL},
			"✗ schema: could not read the migration version", "run creditkit migrate up"},
		{"Postgres down", map[string]string{"DATABASE_URL": strings.Replace(closed, "http://", "postgres://u@", 1) + "/x?connect_timeout=2"},
			"✗ DATABASE_URL: Postgres does not answer", "start it, or fix host"},
	}
	// A product of another company fails its plan too, truthfully: the
	// plan is not a plan of that product.
	fails := map[string]int{"a product of another company": 2}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range e {
				env[k] = v
			}
			for k, v := range tt.set {
				env[k] = v
			}
			out, err := runCheck(t, env)
			var quiet exitError
			if !errors.As(err, &quiet) {
				t.Fatalf("check = %v, want a failing exit\n%s", err, out)
			}
			_, fail := marks(out)
			if want := max(fails[tt.name], 1); len(fail) != want {
				t.Fatalf("✗ lines = %v, want %d\n%s", fail, want, out)
			}
			i := strings.Index(out, tt.line)
			if i < 0 {
				t.Fatalf("output lacks %q:\n%s", tt.line, out)
			}
			rest := out[i:]
			advice := strings.SplitN(rest, "\n", 3)[1]
			if !strings.HasPrefix(advice, "    → ") || !strings.Contains(advice, tt.advice) {
				t.Errorf("advice line = %q, want it to say %q", advice, tt.advice)
			}
			if !strings.Contains(out, " checks failed.") {
				t.Errorf("no summary:\n%s", out)
			}
		})
	}
}

// TestCheckChangesNothingAtWhop: a full run makes only GET requests.
func TestCheckChangesNothingAtWhop(t *testing.T) {
	e, env := checkEnv(t)
	var methods []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method+" "+r.URL.Path)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, env.URL+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		w.Write(buf.Bytes())
	}))
	t.Cleanup(proxy.Close)
	e["WHOP_BASE_URL"] = proxy.URL + "/api/v1"
	if out, err := runCheck(t, e); err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if len(methods) != 5 {
		t.Errorf("requests = %v, want the five reads (app, company, ledger, product, plan)", methods)
	}
	for _, m := range methods {
		if !strings.HasPrefix(m, "GET /api/v1/") {
			t.Errorf("check sent %s", m)
		}
	}
}

// creatorPlan makes a plan owned by the creator's company, through the
// sandbox's API as a creator's own integration would.
func creatorPlan(t *testing.T, env *whopsimtest.Env) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"plan": map[string]any{"company_id": env.Seed.Creator.ID,
		"currency": "usd", "initial_price": 5, "plan_type": "one_time"}})
	req, _ := http.NewRequest(http.MethodPost, env.APIBase+"/checkout_configurations", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+env.Seed.App.APIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Plan struct{ ID string } `json:"plan"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Plan.ID == "" {
		t.Fatalf("creator plan: %d %v", res.StatusCode, err)
	}
	return out.Plan.ID
}

// closedURL is an http URL on a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// rsaOnlyJWKS serves a key set that answers but holds no P-256 key.
func rsaOnlyJWKS(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[{"kty":"RSA","kid":"r1","n":"sXch","e":"AQAB","alg":"RS256"}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/jwks.json"
}
