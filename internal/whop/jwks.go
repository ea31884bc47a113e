package whop

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// keySource supplies verification keys: a fixed set, or Whop's JWKS, cached
// for ttl and refetched at most once per refetchMin when a token names a
// key we lack. Fetches are serialised so a burst of unknown kids costs one
// request.
type keySource struct {
	url        string
	client     *http.Client
	now        func() time.Time
	ttl        time.Duration
	refetchMin time.Duration
	static     []*ecdsa.PublicKey // non-nil: never fetch
	legacy     []*ecdsa.PublicKey // also tried for tokens without kid

	fetchMu     sync.Mutex // held for the length of a fetch
	mu          sync.RWMutex
	byKID       map[string]*ecdsa.PublicKey
	all         []*ecdsa.PublicKey
	fetchedAt   time.Time // last successful fetch
	lastAttempt time.Time // last fetch, successful or not
	fetches     atomic.Uint64
}

// maxJWKS bounds the key-set response; real ones are a few hundred bytes.
const maxJWKS = 1 << 20

func newKeySource(cfg tokenConfig) (*keySource, error) {
	s := &keySource{url: cfg.jwksURL, client: cfg.httpClient, now: cfg.now, ttl: cfg.jwksTTL, refetchMin: cfg.refetchMin}
	if cfg.legacyKey {
		k, err := parseStaticKeys(LegacyUserTokenKey)
		if err != nil {
			return nil, err
		}
		s.legacy = k
	}
	if cfg.staticIsSet {
		keys, err := parseStaticKeys(cfg.staticKey)
		if err != nil {
			return nil, fmt.Errorf("%w: static token key: %w", ErrInvalidArgument, err)
		}
		s.static = keys
		return s, nil
	}
	if !validJWKSURL(cfg.jwksURL) {
		return nil, fmt.Errorf("%w: JWKS URL %q", ErrInvalidArgument, cfg.jwksURL)
	}
	return s, nil
}

// lookup returns the keys to try for kid ("" for a token without one).
func (s *keySource) lookup(ctx context.Context, kid string) ([]*ecdsa.PublicKey, error) {
	if s.static != nil {
		return s.static, nil
	}
	if err := s.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	if keys := s.find(kid); len(keys) > 0 {
		return keys, nil
	}
	// The key set may have rotated since we fetched it.
	s.refetch(ctx)
	if keys := s.find(kid); len(keys) > 0 {
		return keys, nil
	}
	return nil, ErrUnknownKey
}

func (s *keySource) find(kid string) []*ecdsa.PublicKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if kid != "" {
		if k, ok := s.byKID[kid]; ok {
			return []*ecdsa.PublicKey{k}
		}
		return nil
	}
	return append(append([]*ecdsa.PublicKey(nil), s.all...), s.legacy...)
}

// ensureLoaded fetches the set when there is none or it is older than ttl.
// A failed refresh keeps the old keys: Whop's JWKS being down for a minute
// should not log every user out.
func (s *keySource) ensureLoaded(ctx context.Context) error {
	s.mu.RLock()
	have, fetchedAt := s.byKID != nil, s.fetchedAt
	s.mu.RUnlock()
	if have && s.now().Sub(fetchedAt) < s.ttl {
		return nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	s.mu.RLock()
	have, fetchedAt, last := s.byKID != nil, s.fetchedAt, s.lastAttempt
	s.mu.RUnlock()
	now := s.now()
	if have && now.Sub(fetchedAt) < s.ttl {
		return nil // another caller fetched while we waited
	}
	// After a failure, wait a little before asking again, so an outage does
	// not become one request per page view.
	if !last.IsZero() && now.Sub(last) < min(s.refetchMin, 2*time.Second) {
		if have {
			return nil
		}
		return fmt.Errorf("%w: last fetch failed moments ago", ErrKeysUnavailable)
	}
	if err := s.fetch(ctx); err != nil && !have {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return nil
}

// refetch fetches again unless a fetch happened within refetchMin, and
// reports whether the caller should look again.
func (s *keySource) refetch(ctx context.Context) bool {
	if s.static != nil {
		return false
	}
	start := s.now()
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	s.mu.RLock()
	last := s.lastAttempt
	s.mu.RUnlock()
	if last.After(start) {
		return true // someone fetched while we waited for the lock
	}
	if !last.IsZero() && s.now().Sub(last) < s.refetchMin {
		return false
	}
	return s.fetch(ctx) == nil
}

// fetch downloads and installs the key set; fetchMu must be held.
func (s *keySource) fetch(ctx context.Context) error {
	s.fetches.Add(1)
	defer func() {
		s.mu.Lock()
		s.lastAttempt = s.now()
		s.mu.Unlock()
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS))
	if err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	byKID, all, err := parseJWKS(body)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.byKID, s.all, s.fetchedAt = byKID, all, s.now()
	s.mu.Unlock()
	return nil
}
