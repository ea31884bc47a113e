package whop

import (
	"context"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// verify does the cryptographic check. Only the "kid" header is read, and
// only to choose a key: "jku", "x5u", "jwk" and "x5c" would let the token
// name its own key and are ignored.
func (v *TokenVerifier) verify(ctx context.Context, raw string) (*UserToken, error) {
	claims, kid, err := v.parse(ctx, raw)
	if err != nil && kid == "" && errors.Is(err, jwt.ErrTokenSignatureInvalid) && !errors.Is(err, errMethod) {
		// A token without kid matched none of our keys: the set may have
		// rotated. Refetch once (rate-limited) and try again.
		if v.keys.refetch(ctx) {
			claims, kid, err = v.parse(ctx, raw)
		}
	}
	if err != nil {
		return nil, v.classify(err, kid)
	}
	switch {
	case !claims.Aud.present:
		return nil, fmt.Errorf("%w: %w: no aud claim", ErrInvalidToken, ErrWrongAudience)
	case claims.Aud.isArray:
		return nil, fmt.Errorf("%w: %w: aud is an array, Whop sends one string", ErrInvalidToken, ErrWrongAudience)
	case claims.Aud.value != v.appID:
		return nil, fmt.Errorf("%w: %w: aud %q", ErrInvalidToken, ErrWrongAudience, clip(claims.Aud.value))
	case claims.Subject == "":
		return nil, fmt.Errorf("%w: no sub claim", ErrInvalidToken)
	}
	return &UserToken{UserID: claims.Subject, AppID: claims.Aud.value, ExpiresAt: claims.ExpiresAt.Time}, nil
}

// errMethod marks a refused algorithm, which no refetch can fix.
var errMethod = errors.New("algorithm not allowed")

func (v *TokenVerifier) parse(ctx context.Context, raw string) (*userClaims, string, error) {
	var claims userClaims
	var kid string
	tok, err := v.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		keys, err := v.keys.lookup(ctx, kid)
		if err != nil {
			return nil, err
		}
		v.verifications.Add(1)
		set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(keys))}
		for i, k := range keys {
			set.Keys[i] = k
		}
		return set, nil
	})
	if err != nil && tok != nil && tok.Method != nil && tok.Method.Alg() != jwt.SigningMethodES256.Alg() {
		err = fmt.Errorf("%w: %w (%s)", err, errMethod, tok.Method.Alg())
	}
	return &claims, kid, err
}

// classify turns the JWT library's errors into this package's sentinels.
func (v *TokenVerifier) classify(err error, kid string) error {
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		return err
	case errors.Is(err, ErrUnknownKey):
		return fmt.Errorf("%w: %w: kid %q", ErrInvalidToken, ErrUnknownKey, clip(kid))
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: %w", ErrInvalidToken, ErrTokenExpired)
	}
	return fmt.Errorf("%w: %w", ErrInvalidToken, err)
}
