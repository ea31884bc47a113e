package whop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// User-token constants.
const (
	// HeaderUserToken is the header Whop's proxy adds to every request to an
	// app's iframe origin.
	HeaderUserToken = "x-whop-user-token"
	// TokenIssuer is the only issuer Whop's proxy uses.
	TokenIssuer = "urn:whopcom:exp-proxy"
	// DefaultJWKSURL is where Whop publishes its token keys.
	DefaultJWKSURL = "https://api.whop.com/.well-known/jwks.json"
)

// Token verification failures. Every rejected token matches ErrInvalidToken;
// the more specific sentinels match as well where they apply.
var (
	ErrMissingToken  = errors.New("whop: user token missing")
	ErrInvalidToken  = errors.New("whop: user token invalid")
	ErrTokenExpired  = errors.New("whop: user token expired")
	ErrWrongAudience = errors.New("whop: user token is for another app")
	ErrUnknownKey    = errors.New("whop: user token signed by an unknown key")
	// ErrKeysUnavailable is not about the token: the JWKS could not be
	// fetched and no key was cached. Answer 503, not 401.
	ErrKeysUnavailable = errors.New("whop: user token keys unavailable")
)

// maxTokenLen refuses absurd headers before any parsing; Whop's tokens are
// a few hundred bytes.
const maxTokenLen = 8 << 10

// UserToken is a verified user token.
type UserToken struct {
	UserID    string // "sub": the Whop user id
	AppID     string // "aud": always the verifier's app id
	ExpiresAt time.Time
}

// TokenStats counts the verifier's work, for metrics and tests.
type TokenStats struct {
	Verifications uint64 // signatures checked (ECDSA work done)
	CacheHits     uint64 // tokens answered from the cache without crypto
	JWKSFetches   uint64 // requests made for the key set
}

// TokenVerifier checks x-whop-user-token JWTs for one app. It is safe for
// concurrent use; create one per app and share it.
type TokenVerifier struct {
	appID  string
	now    func() time.Time
	keys   *keySource
	cache  *tokenCache
	parser *jwt.Parser

	verifications, cacheHits atomic.Uint64
}

// TokenOption configures a TokenVerifier.
type TokenOption func(*tokenConfig)

type tokenConfig struct {
	jwksURL     string
	staticKey   string
	httpClient  *http.Client
	now         func() time.Time
	leeway      time.Duration
	refetchMin  time.Duration
	jwksTTL     time.Duration
	cacheSize   int
	staticIsSet bool
	legacyKey   bool
}

// WithJWKSURL replaces Whop's JWKS, e.g. with the sandbox's.
func WithJWKSURL(u string) TokenOption { return func(c *tokenConfig) { c.jwksURL = u } }

// WithStaticKey verifies with one fixed public key instead of a JWKS: a PEM
// (or bare base64) SPKI, a JWK JSON object, or a JWKS JSON document.
func WithStaticKey(pemOrJWK string) TokenOption {
	return func(c *tokenConfig) { c.staticKey, c.staticIsSet = pemOrJWK, true }
}

// WithTokenHTTPClient sets the client used to fetch the JWKS.
func WithTokenHTTPClient(hc *http.Client) TokenOption {
	return func(c *tokenConfig) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// WithTokenClock sets the clock for expiry checks and key refetch limits.
func WithTokenClock(now func() time.Time) TokenOption {
	return func(c *tokenConfig) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLeeway sets the allowance for clock skew on exp and nbf (default 5 s).
func WithLeeway(d time.Duration) TokenOption {
	return func(c *tokenConfig) { c.leeway = max(d, 0) }
}

// WithJWKSRefetchInterval sets the least time between two JWKS requests made
// because a token named a key we do not have (default 30 s), so a stream of
// forged kids cannot turn the app into a load generator against Whop.
func WithJWKSRefetchInterval(d time.Duration) TokenOption {
	return func(c *tokenConfig) { c.refetchMin = max(d, 0) }
}

// WithJWKSCacheTTL sets how long a fetched key set is used before it is
// fetched again (default 12 h).
func WithJWKSCacheTTL(d time.Duration) TokenOption {
	return func(c *tokenConfig) {
		if d > 0 {
			c.jwksTTL = d
		}
	}
}

// WithTokenCacheSize bounds how many verified tokens are remembered (default
// 10 000; 0 disables the cache).
func WithTokenCacheSize(n int) TokenOption {
	return func(c *tokenConfig) { c.cacheSize = max(n, 0) }
}

// NewTokenVerifier returns a verifier for tokens whose audience is appID.
// appID is required: a verifier that skips the audience check accepts any
// Whop app's tokens, which is the classic bug this API makes impossible.
func NewTokenVerifier(appID string, opts ...TokenOption) (*TokenVerifier, error) {
	if appID == "" {
		return nil, fmt.Errorf("%w: an app id is required to check the audience", ErrInvalidArgument)
	}
	cfg := tokenConfig{
		jwksURL:    DefaultJWKSURL,
		httpClient: &http.Client{Timeout: 10 * time.Second},
		now:        time.Now,
		leeway:     5 * time.Second,
		refetchMin: 30 * time.Second,
		jwksTTL:    12 * time.Hour,
		cacheSize:  10_000,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	keys, err := newKeySource(cfg)
	if err != nil {
		return nil, err
	}
	v := &TokenVerifier{
		appID: appID,
		now:   cfg.now,
		keys:  keys,
		cache: newTokenCache(cfg.cacheSize),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
			jwt.WithIssuer(TokenIssuer),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(cfg.leeway),
			jwt.WithTimeFunc(cfg.now),
		),
	}
	return v, nil
}

// Stats returns the verifier's counters.
func (v *TokenVerifier) Stats() TokenStats {
	return TokenStats{
		Verifications: v.verifications.Load(),
		CacheHits:     v.cacheHits.Load(),
		JWKSFetches:   v.keys.fetches.Load(),
	}
}

func validJWKSURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// audience records the raw "aud" claim, because the JWT library accepts an
// array where Whop promises a single string, and an array must be refused.
type audience struct {
	value   string
	present bool
	isArray bool
}

// UnmarshalJSON records a string audience and notes, without failing, an
// array or other kind so Verify can refuse it with ErrWrongAudience.
func (a *audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*a = audience{present: len(b) > 0 && string(b) != "null"}
	switch {
	case len(b) > 0 && b[0] == '[':
		a.isArray = true
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &a.value)
	}
	return nil
}

// userClaims shadows the library's "aud" with the raw form above; the
// library's own audience check is not used, Verify does it.
type userClaims struct {
	jwt.RegisteredClaims
	Aud audience `json:"aud"`
}

func tokenCacheKey(raw string) [32]byte { return sha256.Sum256([]byte(raw)) }

// Verify checks a raw token and returns who it speaks for. A token seen
// before and not yet expired is answered from memory, without crypto.
func (v *TokenVerifier) Verify(ctx context.Context, raw string) (*UserToken, error) {
	if raw == "" {
		return nil, ErrMissingToken
	}
	if len(raw) > maxTokenLen {
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalidToken, len(raw))
	}
	key := tokenCacheKey(raw)
	now := v.now()
	if tok, ok := v.cache.get(key, now); ok {
		v.cacheHits.Add(1)
		return &tok, nil
	}
	tok, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	v.cache.put(key, *tok, now)
	return tok, nil
}
