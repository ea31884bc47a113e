package whop

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func TestStaticKeyForms(t *testing.T) {
	e := newTokenEnv(t)
	pemKey := pemOf(t, &e.key1.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(&e.key1.PublicKey)
	forms := map[string]string{
		"PEM":               pemKey,
		"bare base64 SPKI":  base64.StdEncoding.EncodeToString(der),
		"JWK":               jwkJSON("", &e.key1.PublicKey),
		"JWK with padding":  strings.ReplaceAll(jwkJSON("", &e.key1.PublicKey), `","y"`, `=","y"`),
		"JWKS document":     `{"keys":[` + jwkJSON("k9", &e.key1.PublicKey) + `]}`,
		"PEM with spaces":   "\n  " + pemKey + "  \n",
		"base64 in 2 lines": base64.StdEncoding.EncodeToString(der)[:40] + "\n" + base64.StdEncoding.EncodeToString(der)[40:],
	}
	for name, key := range forms {
		t.Run(name, func(t *testing.T) {
			v := e.verifier(t, WithStaticKey(key))
			for _, kid := range []string{"k1", "", "anything"} {
				if _, err := v.Verify(t.Context(), sign(t, e.key1, kid, e.claims())); err != nil {
					t.Errorf("kid %q: %v", kid, err)
				}
			}
			if _, err := v.Verify(t.Context(), sign(t, e.key2, "k1", e.claims())); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("other key accepted: %v", err)
			}
			if n := v.Stats().JWKSFetches; n != 0 || e.fetches.Load() != 0 {
				t.Errorf("a static key fetched the JWKS")
			}
		})
	}
}

func TestNewTokenVerifierRefusesBadConfig(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER}))
	tests := map[string][]TokenOption{
		"JWKS URL not absolute": {WithJWKSURL("/jwks.json")},
		"JWKS URL ftp":          {WithJWKSURL("ftp://whop.com/jwks")},
		"empty static key":      {WithStaticKey("")},
		"junk static key":       {WithStaticKey("not a key")},
		"RSA static key":        {WithStaticKey(rsaPEM)},
		"P-384 JWK":             {WithStaticKey(`{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}`)},
		"point off the curve":   {WithStaticKey(`{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}`)},
		"empty JWKS document":   {WithStaticKey(`{"keys":[]}`)},
	}
	for name, opts := range tests {
		if _, err := NewTokenVerifier(testAppID, opts...); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, err := NewTokenVerifier(""); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty app id: err = %v; the audience check is never optional", err)
	}
}

// TestLegacyKeyForms checks PROTOCOL §5: the legacy key's JWK and its SPKI
// PEM body are the same key.
func TestLegacyKeyForms(t *testing.T) {
	fromJWK, err := parseStaticKeys(LegacyUserTokenKey)
	if err != nil {
		t.Fatal(err)
	}
	fromPEM, err := parseStaticKeys("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAErz8a8vxvexHC0TLT91g7llOdDOsNuYiGEfic4Qhni+HMfRBuUphOh7F3k8QgwZc9UlL0AHmyYqtbhL9NuJes6w==")
	if err != nil {
		t.Fatal(err)
	}
	if len(fromJWK) != 1 || len(fromPEM) != 1 || !fromJWK[0].Equal(fromPEM[0]) {
		t.Fatal("the JWK and PEM forms of the legacy key differ")
	}
	e := newTokenEnv(t)
	v := e.verifier(t, WithLegacyKey())
	if _, err := v.Verify(t.Context(), sign(t, e.key1, "", e.claims())); err != nil {
		t.Errorf("JWKS key still works alongside the legacy key: %v", err)
	}
	if got := len(v.keys.find("")); got != 2 {
		t.Errorf("kid-less tokens try %d keys, want JWKS key + legacy key", got)
	}
	if got := len(v.keys.find("k1")); got != 1 {
		t.Errorf("a kid selects %d keys, want exactly its own", got)
	}
}
