package whop

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifiedTokensAreCached(t *testing.T) {
	e := newTokenEnv(t)
	v := e.verifier(t)
	tok := sign(t, e.key1, "k1", e.claims())
	for range 3 {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if s := v.Stats(); s != (TokenStats{Verifications: 1, CacheHits: 2, JWKSFetches: 1}) {
		t.Errorf("stats = %+v", s)
	}
	// At exp the cached entry is dropped: the token is checked afresh (and
	// passes within the leeway) but not cached again.
	e.advance(5 * time.Minute)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	e.advance(6 * time.Second)
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("past leeway: err = %v, want ErrTokenExpired", err)
	}
	if s := v.Stats(); s.CacheHits != 2 || s.Verifications != 3 {
		t.Errorf("stats = %+v, want 2 hits and 3 verifications", s)
	}
	if v.cache.len() != 0 {
		t.Errorf("cache holds %d entries", v.cache.len())
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	e := newTokenEnv(t)
	v := e.verifier(t, WithTokenCacheSize(3))
	for i := range 10 {
		c := e.claims()
		c["sub"] = "user_" + string(rune('a'+i))
		if _, err := v.Verify(t.Context(), sign(t, e.key1, "k1", c)); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.cache.len(); n != 3 {
		t.Errorf("cache holds %d tokens, want 3", n)
	}
	off := e.verifier(t, WithTokenCacheSize(0))
	tok := sign(t, e.key1, "k1", e.claims())
	off.Verify(t.Context(), tok)
	off.Verify(t.Context(), tok)
	if s := off.Stats(); s.Verifications != 2 || s.CacheHits != 0 {
		t.Errorf("disabled cache: stats = %+v", s)
	}
}

func TestTokenIgnoresHeaderKeyLocations(t *testing.T) {
	e := newTokenEnv(t)
	var evil atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evil.Add(1)
		w.Write([]byte(`{"keys":[` + jwkJSON("evil", &e.key2.PublicKey) + `]}`))
	}))
	defer attacker.Close()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, e.claims())
	tok.Header["kid"] = "evil"
	tok.Header["jku"] = attacker.URL
	tok.Header["x5u"] = attacker.URL
	tok.Header["jwk"] = map[string]any{"kty": "EC", "crv": "P-256"}
	raw, _ := tok.SignedString(e.key2)
	if _, err := e.verifier(t).Verify(t.Context(), raw); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if evil.Load() != 0 {
		t.Error("the verifier followed a key URL from the token")
	}
}

func TestJWKSUnavailable(t *testing.T) {
	e := newTokenEnv(t)
	e.setStatus(http.StatusInternalServerError)
	v := e.verifier(t)
	_, err := v.Verify(t.Context(), sign(t, e.key1, "k1", e.claims()))
	if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrKeysUnavailable only", err)
	}
	// Recovered Whop: after the short failure backoff, keys load again.
	e.setStatus(http.StatusOK)
	e.advance(3 * time.Second)
	if _, err := v.Verify(t.Context(), sign(t, e.key1, "k1", e.claims())); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// An outage after a successful load keeps the cached keys working.
	e.setStatus(http.StatusBadGateway)
	e.advance(13 * time.Hour)
	if _, err := v.Verify(t.Context(), sign(t, e.key1, "k1", e.claims())); err != nil {
		t.Fatalf("stale keys during an outage: %v", err)
	}
}

func TestTokenVerifierConcurrentUse(t *testing.T) {
	e := newTokenEnv(t)
	v := e.verifier(t)
	toks := []string{sign(t, e.key1, "k1", e.claims()), sign(t, e.key1, "", e.claims())}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 20 {
				if _, err := v.Verify(t.Context(), toks[(i+j)%2]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := e.fetches.Load(); n != 1 {
		t.Errorf("concurrent first use fetched the JWKS %d times, want 1", n)
	}
}
