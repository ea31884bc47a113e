package whop

import (
	"sync"
	"time"
)

// tokenCache remembers verified tokens until they expire, keyed by the
// SHA-256 of the raw token so the cache holds no bearer credentials. A page
// view sends the same token with every request; after the first, none of
// them costs an ECDSA verification.
type tokenCache struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]UserToken
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[[32]byte]UserToken)}
}

func (c *tokenCache) get(key [32]byte, now time.Time) (UserToken, bool) {
	if c.max == 0 {
		return UserToken{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tok, ok := c.m[key]
	if !ok {
		return UserToken{}, false
	}
	if !now.Before(tok.ExpiresAt) {
		delete(c.m, key)
		return UserToken{}, false
	}
	return tok, true
}

func (c *tokenCache) put(key [32]byte, tok UserToken, now time.Time) {
	if c.max == 0 || !now.Before(tok.ExpiresAt) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, t := range c.m {
			if !now.Before(t.ExpiresAt) {
				delete(c.m, k)
			}
		}
		// Still full of live tokens: drop arbitrary ones (map order is
		// random). A dropped token is only verified again, never refused.
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = tok
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
