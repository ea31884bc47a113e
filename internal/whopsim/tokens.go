package whopsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// User tokens as Whop's proxy signs them (PROTOCOL §5): ES256 with a kid
// the JWKS publishes; iss urn:whopcom:exp-proxy, aud the app id, sub the
// user id, short-lived.

const (
	tokenIssuer   = "urn:whopcom:exp-proxy"
	tokenLifetime = 5 * time.Minute
)

// tokenKeys holds the signing key, made fresh for each process (a
// verifier refetches the JWKS on an unknown kid), and a second key that is
// never published, for the unknown-kid fault.
type tokenKeys struct {
	key, stray    *ecdsa.PrivateKey
	kid, strayKID string
}

func newTokenKeys(g *idGen) (*tokenKeys, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("whopsim: making the token key: %w", err)
	}
	stray, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("whopsim: making the token key: %w", err)
	}
	return &tokenKeys{key: key, stray: stray, kid: "whopsim-" + g.base62(12), strayKID: "whopsim-" + g.base62(12)}, nil
}

// jwk is the public key as a JWK.
func jwk(k *ecdsa.PrivateKey, kid string) obj {
	pub, err := k.PublicKey.ECDH()
	if err != nil {
		panic("whopsim: P-256 key has no ECDH form: " + err.Error())
	}
	b := pub.Bytes() // 0x04 || X || Y, 32 bytes each
	enc := base64.RawURLEncoding.EncodeToString
	return obj{"kty": "EC", "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:65]),
		"kid": kid, "alg": "ES256", "use": "sig"}
}

func (s *Sim) serveJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, obj{"keys": []any{jwk(s.tokens.key, s.tokens.kid)}})
}

// Token returns a valid user token for userID, as the relay adds it.
func (s *Sim) Token(userID string) (string, error) { return s.TokenWith(userID, TokenOK) }

// TokenWith returns a user token for userID spoiled the way fault says.
// TokenMissing returns "" and no error.
func (s *Sim) TokenWith(userID string, fault TokenFault) (string, error) {
	token, _, err := s.signToken(userID, fault, tokenLifetime)
	return token, err
}

// signToken returns the token and the expiry it carries (in the past for
// TokenExpired, whatever the lifetime asked).
func (s *Sim) signToken(userID string, fault TokenFault, lifetime time.Duration) (string, time.Time, error) {
	s.mu.Lock()
	appID := s.st.App.ID
	s.mu.Unlock()
	now := s.clock.Now()
	claims := jwt.MapClaims{"iss": tokenIssuer, "aud": appID, "sub": userID,
		"iat": now.Unix(), "exp": now.Add(lifetime).Unix()}
	key, kid := s.tokens.key, s.tokens.kid
	switch fault {
	case TokenOK:
	case TokenMissing:
		return "", time.Time{}, nil
	case TokenExpired:
		claims["iat"], claims["exp"] = now.Add(-2*tokenLifetime).Unix(), now.Add(-tokenLifetime).Unix()
	case TokenWrongAud:
		claims["aud"] = "app_" + s.ids.base62(idBodyLen)
	case TokenWrongIss:
		claims["iss"] = "urn:whopcom:somebody-else"
	case TokenNoKID:
		kid = ""
	case TokenUnknownKID:
		key, kid = s.tokens.stray, s.tokens.strayKID
	default:
		return "", time.Time{}, badRequest("%v", fault.check())
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	if kid != "" {
		t.Header["kid"] = kid
	}
	signed, err := t.SignedString(key)
	return signed, time.Unix(claims["exp"].(int64), 0).UTC(), err
}

// TokenKID is the kid of the published key, for tests that check it.
func (s *Sim) TokenKID() string { return s.tokens.kid }

// savedKey is the token signing key as the state file keeps it, so a
// sandbox restarted on the same file signs with the same key and an app
// given the key itself (not the key set) keeps verifying.
type savedKey struct {
	KID string `json:"kid"`
	PEM string `json:"private_key_pem"`
}

// adoptSavedKeyLocked signs with the key the state holds, or records the
// fresh one there.
func (s *Sim) adoptSavedKeyLocked() error {
	if k := s.st.TokenKey; k != nil {
		block, _ := pem.Decode([]byte(k.PEM))
		if block == nil {
			return errors.New("whopsim: the state file's token key is not PEM")
		}
		key, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return fmt.Errorf("whopsim: the state file's token key: %w", err)
		}
		s.tokens.key, s.tokens.kid = key, k.KID
		return nil
	}
	der, err := x509.MarshalECPrivateKey(s.tokens.key)
	if err != nil {
		return fmt.Errorf("whopsim: saving the token key: %w", err)
	}
	s.st.TokenKey = &savedKey{KID: s.tokens.kid,
		PEM: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))}
	return nil
}

// PublicKeyPEM is the token key's public half as a PEM SubjectPublicKeyInfo,
// the form WHOP_USER_TOKEN_PUBLIC_KEY takes besides a JWK.
func (s *Sim) PublicKeyPEM() string {
	der, err := x509.MarshalPKIXPublicKey(&s.tokens.key.PublicKey)
	if err != nil {
		panic("whopsim: P-256 public key does not encode: " + err.Error())
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// PublicKeyJWK is the token key's public half as the JWK the key set
// publishes.
func (s *Sim) PublicKeyJWK() map[string]any { return jwk(s.tokens.key, s.tokens.kid) }

// TokenFor is TokenWith with a lifetime of ttl (at most a day; zero is
// the relay's five minutes), for a developer pasting a token into curl. It
// returns the expiry the token carries: for TokenExpired, a past one.
func (s *Sim) TokenFor(userID string, fault TokenFault, ttl time.Duration) (token string, expires time.Time, err error) {
	if ttl <= 0 {
		ttl = tokenLifetime
	}
	if ttl > 24*time.Hour {
		return "", time.Time{}, badRequest("a token may live at most 24h, not %s", ttl)
	}
	return s.signToken(userID, fault, ttl)
}
