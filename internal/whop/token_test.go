package whop

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokenAccepted(t *testing.T) {
	e := newTokenEnv(t)
	e.setKeys(jwkJSON("k1", &e.key1.PublicKey), jwkJSON("k2", &e.key2.PublicKey))
	tests := []struct {
		name string
		key  string // which key signs
		kid  string
	}{
		{"with kid", "k1", "k1"},
		{"with the second kid", "k2", "k2"},
		{"without kid, first key", "k1", ""},
		{"without kid, second key", "k2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := e.verifier(t)
			key := e.key1
			if tt.key == "k2" {
				key = e.key2
			}
			before := e.fetches.Load()
			got, err := v.Verify(t.Context(), sign(t, key, tt.kid, e.claims()))
			if err != nil {
				t.Fatal(err)
			}
			want := UserToken{UserID: "user_1", AppID: testAppID, ExpiresAt: e.now().Add(5 * time.Minute)}
			if got.UserID != want.UserID || got.AppID != want.AppID || !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("got %+v, want %+v", got, want)
			}
			if n := e.fetches.Load() - before; n != 1 {
				t.Errorf("JWKS fetched %d times, want 1", n)
			}
			if s := v.Stats(); s != (TokenStats{Verifications: 1, JWKSFetches: 1}) {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestTokenRejected(t *testing.T) {
	e := newTokenEnv(t)
	other := newKey(t)
	pubDER, _ := x509.MarshalPKIXPublicKey(&e.key1.PublicKey)
	with := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := e.claims()
		mut(c)
		return c
	}
	hs256 := func(secret []byte) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, e.claims()).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, e.claims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	good := sign(t, e.key1, "k1", e.claims())
	parts := strings.Split(good, ".")
	otherSig := strings.Split(sign(t, other, "k1", e.claims()), ".")[2]

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"alg none", none, ErrInvalidToken},
		{"HS256 keyed with the public key's PEM", hs256([]byte(pemOf(t, &e.key1.PublicKey))), ErrInvalidToken},
		{"HS256 keyed with the public key's DER", hs256(pubDER), ErrInvalidToken},
		{"wrong issuer", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { c["iss"] = "urn:whopcom:other" })), ErrInvalidToken},
		{"no issuer", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { delete(c, "iss") })), ErrInvalidToken},
		{"missing audience", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { delete(c, "aud") })), ErrWrongAudience},
		{"different audience", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { c["aud"] = "app_other" })), ErrWrongAudience},
		{"array audience", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { c["aud"] = []string{testAppID} })), ErrWrongAudience},
		{"empty audience", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { c["aud"] = "" })), ErrWrongAudience},
		{"expired", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { c["exp"] = e.now().Add(-time.Minute).Unix() })), ErrTokenExpired},
		{"no exp", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { delete(c, "exp") })), ErrInvalidToken},
		{"not yet valid", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { c["nbf"] = e.now().Add(time.Minute).Unix() })), ErrInvalidToken},
		{"no subject", sign(t, e.key1, "k1", with(func(c jwt.MapClaims) { delete(c, "sub") })), ErrInvalidToken},
		{"bad signature", parts[0] + "." + parts[1] + "." + otherSig, ErrInvalidToken},
		{"claims changed after signing", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+TokenIssuer+`","aud":"app_test","sub":"user_2","exp":9999999999}`)) + "." + parts[2], ErrInvalidToken},
		{"truncated", parts[0] + "." + parts[1], ErrInvalidToken},
		{"garbage", "not.a.jwt", ErrInvalidToken},
		{"oversized", strings.Repeat("a", maxTokenLen+1), ErrInvalidToken},
		{"empty", "", ErrMissingToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := e.verifier(t)
			got, err := v.Verify(t.Context(), tt.token)
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("Verify = %+v, %v; want %v", got, err, tt.want)
			}
			if tt.want != ErrMissingToken && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%v does not match ErrInvalidToken", err)
			}
		})
	}
}

func TestTokenWrongAlgorithmNeverFetchesKeys(t *testing.T) {
	e := newTokenEnv(t)
	v := e.verifier(t)
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, e.claims()).SignedString([]byte(pemOf(t, &e.key1.PublicKey)))
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
	if s := v.Stats(); s != (TokenStats{}) {
		t.Errorf("stats = %+v; an HS256 token must be refused before any key work", s)
	}
}

func TestTokenWithinLeeway(t *testing.T) {
	e := newTokenEnv(t)
	c := e.claims()
	c["exp"] = e.now().Add(-3 * time.Second).Unix()
	if _, err := e.verifier(t).Verify(t.Context(), sign(t, e.key1, "k1", c)); err != nil {
		t.Errorf("3 s past exp with 5 s leeway: %v", err)
	}
	if _, err := e.verifier(t, WithLeeway(0)).Verify(t.Context(), sign(t, e.key1, "k1", c)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("no leeway: err = %v", err)
	}
}

func TestUnknownKidRefetchesOncePerInterval(t *testing.T) {
	e := newTokenEnv(t)
	v := e.verifier(t)
	if _, err := v.Verify(t.Context(), sign(t, e.key1, "k1", e.claims())); err != nil {
		t.Fatal(err)
	}
	e.advance(31 * time.Second)
	_, err := v.Verify(t.Context(), sign(t, e.key2, "k_unknown", e.claims()))
	if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if n := v.Stats().JWKSFetches; n != 2 {
		t.Errorf("fetches = %d, want the initial one plus exactly one refetch", n)
	}
	// A flood of forged kids within 30 s costs nothing more.
	for range 5 {
		e.advance(time.Second)
		if _, err := v.Verify(t.Context(), sign(t, e.key2, "k_forged", e.claims())); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := v.Stats().JWKSFetches; n != 2 || e.fetches.Load() != 2 {
		t.Errorf("fetches = %d (server saw %d), want 2", n, e.fetches.Load())
	}
	// The key rotates in; after the interval the next unknown kid finds it.
	e.setKeys(jwkJSON("k1", &e.key1.PublicKey), jwkJSON("k2", &e.key2.PublicKey))
	e.advance(30 * time.Second)
	if _, err := v.Verify(t.Context(), sign(t, e.key2, "k2", e.claims())); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := v.Stats().JWKSFetches; n != 3 {
		t.Errorf("fetches = %d, want 3", n)
	}
}

func TestKidlessTokenForcesOneRefetch(t *testing.T) {
	e := newTokenEnv(t)
	v := e.verifier(t)
	if _, err := v.Verify(t.Context(), sign(t, e.key1, "", e.claims())); err != nil {
		t.Fatal(err)
	}
	e.setKeys(jwkJSON("k2", &e.key2.PublicKey)) // rotated, and the token names no kid
	e.advance(31 * time.Second)
	if _, err := v.Verify(t.Context(), sign(t, e.key2, "", e.claims())); err != nil {
		t.Fatalf("kid-less token after rotation: %v", err)
	}
	if s := v.Stats(); s.JWKSFetches != 2 || s.Verifications != 3 {
		t.Errorf("stats = %+v, want 2 fetches and 3 verifications (one before, two around the refetch)", s)
	}
	// A kid-less forgery right after cannot trigger another fetch.
	if _, err := v.Verify(t.Context(), sign(t, newKey(t), "", e.claims())); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v", err)
	}
	if n := v.Stats().JWKSFetches; n != 2 {
		t.Errorf("fetches = %d, want 2", n)
	}
}
