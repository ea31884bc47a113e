package whopsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

func (b *bundle) tokenVerifier() *whop.TokenVerifier {
	b.t.Helper()
	v, err := whop.NewTokenVerifier(b.Seed.App.ID, whop.WithJWKSURL(b.JWKSURL), whop.WithTokenClock(b.clock.Now))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

func TestJWKS(t *testing.T) {
	b := setup(t)
	status, out, h := b.do("GET", "/.well-known/jwks.json", nil)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("jwks = %d %s", status, h.Get("Content-Type"))
	}
	fields(t, out, map[string]string{"keys.0.kty": "EC", "keys.0.crv": "P-256", "keys.0.alg": "ES256",
		"keys.0.use": "sig", "keys.0.kid": b.Sim.TokenKID()})
	for _, c := range []string{"x", "y"} {
		if n := len(str(t, out, "keys.0."+c)); n != 43 { // 32 bytes, base64url without padding
			t.Errorf("%s has %d characters, want 43", c, n)
		}
	}
}

func TestTokensVerifyAgainstTheJWKS(t *testing.T) {
	b := setup(t)
	v := b.tokenVerifier()
	alice := b.Seed.Members[0].ID
	raw, err := b.Sim.Token(alice)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	if tok.UserID != alice || tok.AppID != b.Seed.App.ID || !tok.ExpiresAt.Equal(start.Add(5*time.Minute)) {
		t.Errorf("token = %+v", tok)
	}
	var header map[string]any
	seg, _ := jwtHeader(raw)
	json.Unmarshal(seg, &header)
	if header["alg"] != "ES256" || header["kid"] != b.Sim.TokenKID() {
		t.Errorf("header = %v", header)
	}

	tests := []struct {
		fault whopsim.TokenFault
		want  error // nil: accepted
	}{
		{whopsim.TokenExpired, whop.ErrTokenExpired},
		{whopsim.TokenWrongAud, whop.ErrWrongAudience},
		{whopsim.TokenWrongIss, whop.ErrInvalidToken},
		{whopsim.TokenUnknownKID, whop.ErrUnknownKey},
		// Legacy tokens carry no kid; a verifier tries every key.
		{whopsim.TokenNoKID, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			raw, err := b.Sim.TokenWith(alice, tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.tokenVerifier().Verify(context.Background(), raw)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if raw, err := b.Sim.TokenWith(alice, whopsim.TokenMissing); raw != "" || err != nil {
		t.Errorf("missing = %q, %v", raw, err)
	}
	if _, err := b.Sim.TokenWith(alice, "sideways"); err == nil {
		t.Error("an unknown fault was accepted")
	}
	b.clock.Advance(5*time.Minute + 10*time.Second) // past the verifier's 5 s leeway
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, whop.ErrTokenExpired) {
		t.Errorf("a token past its 5 minutes: %v", err)
	}
}

// jwtHeader decodes a compact JWT's first segment.
func jwtHeader(raw string) ([]byte, error) {
	seg, _, _ := strings.Cut(raw, ".")
	return decodeSegment(seg)
}

func TestRelay(t *testing.T) {
	clock := whopsim.NewManualClock(start)
	var verifier *whop.TokenVerifier
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.Header.Get(whop.HeaderUserToken)
		who := "none"
		if tok, err := verifier.Verify(r.Context(), raw); err == nil {
			who = tok.UserID
		} else if raw != "" {
			who = "invalid"
		}
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Seen", strings.Join([]string{who, r.Host, r.Header.Get("X-Forwarded-Host"),
			r.Header.Get("X-Forwarded-Proto"), r.URL.RequestURI()}, " "))
		io.WriteString(w, "<p>app</p>")
	})
	env := whopsimtest.Start(t, whopsimtest.Config{App: app, Options: whopsim.Options{Clock: clock}})
	var err error
	if verifier, err = whop.NewTokenVerifier(env.Seed.App.ID, whop.WithJWKSURL(env.JWKSURL),
		whop.WithTokenClock(clock.Now)); err != nil {
		t.Fatal(err)
	}
	relayHost := strings.TrimPrefix(env.RelayURL, "http://")
	get := func(path string, header ...string) (seen []string, res *http.Response) {
		t.Helper()
		req, _ := http.NewRequest("GET", env.RelayURL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return strings.Split(res.Header.Get("X-Seen"), " "), res
	}

	alice, admin := env.Seed.Members[0].ID, env.Seed.Admin.ID
	seen, res := get("/experiences/"+env.Seed.Creator.ExperienceID+"?x=1", "X-Whop-User-Token", "forged")
	if seen[0] != alice {
		t.Errorf("the app saw user %q, want the selected user %s (and never the browser's header)", seen[0], alice)
	}
	if res.Header.Get("X-Frame-Options") != "" {
		t.Errorf("X-Frame-Options %q reached the browser", res.Header.Get("X-Frame-Options"))
	}
	if strings.Contains(seen[1], "localhost") || seen[2] != relayHost || seen[3] != "http" {
		t.Errorf("host %q, forwarded host %q proto %q; want the app's host, then %q over http", seen[1], seen[2], seen[3], relayHost)
	}
	if seen[4] != "/experiences/"+env.Seed.Creator.ExperienceID+"?x=1" {
		t.Errorf("path = %q", seen[4])
	}

	if err := env.Sim.SelectUser(admin); err != nil {
		t.Fatal(err)
	}
	if seen, _ = get("/dashboard/" + env.Seed.Creator.ID); seen[0] != admin {
		t.Errorf("after selecting the admin the app saw %q", seen[0])
	}
	dev, _ := env.Sim.Token(env.Seed.Members[1].ID)
	if seen, _ = get("/discover?whop-dev-user-token=" + dev); seen[0] != env.Seed.Members[1].ID {
		t.Errorf("with ?whop-dev-user-token= the app saw %q", seen[0])
	}
	env.Sim.UpdateFaults(func(f *whopsim.Faults) { f.Token = whopsim.TokenMissing })
	if seen, _ = get("/discover"); seen[0] != "none" {
		t.Errorf("token fault missing: the app saw %q", seen[0])
	}
	env.Sim.UpdateFaults(func(f *whopsim.Faults) { f.Token = whopsim.TokenExpired })
	if seen, _ = get("/discover"); seen[0] != "invalid" {
		t.Errorf("token fault expired: the app saw %q", seen[0])
	}
	if err := env.Sim.SelectUser("user_nope"); !errors.Is(err, whopsim.ErrNotFound) {
		t.Errorf("selecting an unknown user: %v", err)
	}
}

func TestRelayWithoutAnApp(t *testing.T) {
	env := whopsimtest.Start(t, whopsimtest.Config{})
	res, err := http.Get(env.RelayURL + "/experiences/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "not answering") {
		t.Errorf("relay with no app = %d %s", res.StatusCode, body)
	}
	if _, err := env.Sim.Relay("not a url"); err == nil {
		t.Error("Relay accepted a relative URL")
	}
}

// TestUnknownTokenFaultIsRefused: a fault the sandbox does not know is the
// caller's mistake, a 400 naming the known ones, both when minting a token
// and when setting the relay's fault (which is then left as it was); a
// "missing" token cannot be minted, only sent as no header by the relay.
func TestUnknownTokenFaultIsRefused(t *testing.T) {
	b := setup(t)
	status, out, _ := b.do("POST", "/_sim/token", map[string]any{"fault": "bogus"})
	if status != http.StatusBadRequest || !strings.Contains(str(t, out, "error.message"), `unknown token fault "bogus"`) ||
		!strings.Contains(str(t, out, "error.message"), "expired, wrong_aud") {
		t.Errorf("minting a bogus fault = %d %v, want 400 naming the faults", status, out)
	}
	status, out, _ = b.do("POST", "/_sim/token", map[string]any{"fault": "missing"})
	if status != http.StatusBadRequest || !strings.Contains(str(t, out, "error.message"), "without x-whop-user-token") {
		t.Errorf("minting a missing token = %d %v, want 400", status, out)
	}
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.Token = whopsim.TokenExpired })
	status, out, _ = b.do("POST", "/_sim/faults", map[string]any{"token": "bogus", "drop_next": 2})
	if status != http.StatusBadRequest || !strings.Contains(str(t, out, "error.message"), `unknown token fault "bogus"`) {
		t.Errorf("setting a bogus relay fault = %d %v, want 400", status, out)
	}
	if f := b.Sim.Faults(); f.Token != whopsim.TokenExpired || f.DropNext != 0 {
		t.Errorf("faults after a refused change = %+v, want them unchanged", f)
	}
	if status, out, _ = b.do("POST", "/_sim/faults", map[string]any{"token": "missing"}); status != http.StatusOK {
		t.Errorf("setting the relay's missing fault = %d %v, want 200", status, out)
	}
}
