package whop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// LegacyUserTokenKey is the public key older Whop SDKs (@whop/api, @whop/sdk
// up to 0.0.37) hard-code for tokens without a kid. Whether Whop's JWKS
// still lists it is unconfirmed, so WithLegacyKey adds it on request.
const LegacyUserTokenKey = `{"kty":"EC","crv":"P-256","x":"rz8a8vxvexHC0TLT91g7llOdDOsNuYiGEfic4Qhni-E","y":"zH0QblKYToexd5PEIMGXPVJS9AB5smKrW4S_TbiXrOs"}`

// WithLegacyKey also tries LegacyUserTokenKey for tokens that carry no kid.
func WithLegacyKey() TokenOption { return func(c *tokenConfig) { c.legacyKey = true } }

// jwk is the part of a JSON Web Key an ES256 verifier needs.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

var errNoUsableKey = errors.New("no P-256 signing key")

// parseJWKS reads a key set, keeping only P-256 signature keys: anything else
// could not verify an ES256 token, and a broken entry must not hide the
// good ones.
func parseJWKS(data []byte) (map[string]*ecdsa.PublicKey, []*ecdsa.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, fmt.Errorf("decode JWKS: %w", err)
	}
	byKID := make(map[string]*ecdsa.PublicKey)
	all := make([]*ecdsa.PublicKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var k jwk
		if json.Unmarshal(raw, &k) != nil {
			continue
		}
		pub, err := k.publicKey()
		if err != nil {
			continue
		}
		all = append(all, pub)
		if k.Kid != "" {
			byKID[k.Kid] = pub
		}
	}
	return byKID, all, nil
}

func (k *jwk) publicKey() (*ecdsa.PublicKey, error) {
	if k.Kty != "EC" || k.Crv != "P-256" || (k.Alg != "" && k.Alg != "ES256") || (k.Use != "" && k.Use != "sig") {
		return nil, errNoUsableKey
	}
	x, errX := decodeB64URL(k.X)
	y, errY := decodeB64URL(k.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, errors.New("bad EC coordinates")
	}
	// ParseUncompressedPublicKey also rejects points not on the curve.
	point := append(append([]byte{4}, x...), y...)
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
}

// decodeB64URL accepts base64url with or without padding; JWKs should be
// unpadded, but configuration pasted by hand sometimes is not.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// parseStaticKeys reads a configured key: a JWK object, a JWKS document, a
// PEM public key, or the bare base64 of a DER SPKI (a PEM's body).
func parseStaticKeys(s string) ([]*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, errors.New("empty key")
	case strings.HasPrefix(s, "{"):
		if strings.Contains(s, `"keys"`) {
			_, all, err := parseJWKS([]byte(s))
			if err == nil && len(all) == 0 {
				err = errNoUsableKey
			}
			return all, err
		}
		var k jwk
		if err := json.Unmarshal([]byte(s), &k); err != nil {
			return nil, fmt.Errorf("decode JWK: %w", err)
		}
		pub, err := k.publicKey()
		if err != nil {
			return nil, err
		}
		return []*ecdsa.PublicKey{pub}, nil
	}
	der := []byte(nil)
	if block, _ := pem.Decode([]byte(s)); block != nil {
		der = block.Bytes
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), "")); err != nil {
			return nil, errors.New("neither a JWK, a PEM nor base64 DER")
		}
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errNoUsableKey
	}
	return []*ecdsa.PublicKey{pub}, nil
}
