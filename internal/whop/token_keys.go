package whop

import (
	"context"
	"fmt"
)

// SigningKeys loads the user-token keys now (the JWKS, or the static key)
// and returns how many usable ES256 (P-256) keys there are. A preflight
// calls it to learn, before the first member arrives, that tokens can be
// verified; a key set that answers with no such key is ErrKeysUnavailable.
func (v *TokenVerifier) SigningKeys(ctx context.Context) (int, error) {
	s := v.keys
	if s.static != nil {
		return len(s.static), nil
	}
	if err := s.ensureLoaded(ctx); err != nil {
		return 0, err
	}
	s.mu.RLock()
	n := len(s.all)
	s.mu.RUnlock()
	if n == 0 {
		return 0, fmt.Errorf("%w: the key set holds no ES256 (P-256) key", ErrKeysUnavailable)
	}
	return n, nil
}
