package whop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testAppID = "app_test"

// tokenEnv is a JWKS server with two signing keys and a movable clock.
type tokenEnv struct {
	key1, key2 *ecdsa.PrivateKey
	srv        *httptest.Server
	fetches    atomic.Int64
	clock      atomic.Int64 // unix nanoseconds
	mu         sync.Mutex
	jwks       string
	status     int
}

func newTokenEnv(t testing.TB) *tokenEnv {
	t.Helper()
	e := &tokenEnv{key1: newKey(t), key2: newKey(t), status: http.StatusOK}
	e.clock.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	e.setKeys(jwkJSON("k1", &e.key1.PublicKey))
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.fetches.Add(1)
		e.mu.Lock()
		body, status := e.jwks, e.status
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (e *tokenEnv) now() time.Time          { return time.Unix(0, e.clock.Load()).UTC() }
func (e *tokenEnv) advance(d time.Duration) { e.clock.Add(int64(d)) }

func (e *tokenEnv) setKeys(jwks ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.jwks = `{"keys":[` + strings.Join(jwks, ",") + `]}`
}

func (e *tokenEnv) setStatus(code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status = code
}

func (e *tokenEnv) verifier(t testing.TB, opts ...TokenOption) *TokenVerifier {
	t.Helper()
	v, err := NewTokenVerifier(testAppID, append([]TokenOption{
		WithJWKSURL(e.srv.URL + "/.well-known/jwks.json"), WithTokenClock(e.now),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// claims are a valid token's claims at the env's current time.
func (e *tokenEnv) claims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": TokenIssuer, "aud": testAppID, "sub": "user_1",
		"iat": e.now().Unix(), "exp": e.now().Add(5 * time.Minute).Unix(),
	}
}

func jwkJSON(kid string, pub *ecdsa.PublicKey) string {
	b, _ := pub.Bytes() // 0x04 || X || Y
	enc := base64.RawURLEncoding.EncodeToString
	kidField := ""
	if kid != "" {
		kidField = fmt.Sprintf(`"kid":%q,`, kid)
	}
	return fmt.Sprintf(`{%s"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","x":%q,"y":%q}`, kidField, enc(b[1:33]), enc(b[33:]))
}

func pemOf(t testing.TB, pub *ecdsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sign makes an ES256 token with header kid (omitted when empty).
func sign(t testing.TB, key *ecdsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
