package billing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
)

// accessCache remembers Whop's answer to "may this user see that?" briefly:
// every page view would otherwise cost an API round trip. Answers are per
// replica and expire on their own, so a revoked member is out within the TTL.
type accessCache struct {
	whop Whop
	ttl  time.Duration
	now  func() time.Time

	mu       sync.Mutex
	entries  map[accessKey]accessEntry
	renewals *renewals[accessKey]
}

// An answer looked at in the last fifth of its TTL is renewed in the
// background (as the premium cache's are): a member using the app keeps
// their access answered from the cache, instead of one page load every TTL
// waiting on Whop. An answer is never used past its expiry, so a revoked
// member is still out within the TTL of the last answer Whop gave.
const accessRenewShare = 5

type accessKey struct{ user, resource string }

type accessEntry struct {
	access  whop.Access
	expires time.Time
}

func newAccessCache(w Whop, ttl time.Duration, now func() time.Time) *accessCache {
	return &accessCache{whop: w, ttl: ttl, now: now, entries: map[accessKey]accessEntry{}, renewals: newRenewals[accessKey]()}
}

func (c *accessCache) check(ctx context.Context, userID, resourceID string) (whop.Access, error) {
	k := accessKey{userID, resourceID}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		if e.expires.Sub(now) < c.ttl/accessRenewShare {
			c.renewals.start(k, func(ctx context.Context) { _, _ = c.ask(ctx, k, c.now()) })
		}
		return e.access, nil
	}
	return c.ask(ctx, k, now)
}

// ask asks Whop and keeps the answer for the TTL from now (read before).
func (c *accessCache) ask(ctx context.Context, k accessKey, now time.Time) (whop.Access, error) {
	userID, resourceID := k.user, k.resource
	a, err := c.whop.CheckAccess(ctx, userID, resourceID)
	switch {
	case errors.Is(err, whop.ErrNotFound):
		// An id Whop does not know grants nothing; remember that too.
		a = whop.Access{Level: whop.AccessNone}
	case err != nil:
		return whop.Access{}, fmt.Errorf("billing: access check: %w", err)
	}
	c.mu.Lock()
	if len(c.entries) > 50_000 { // bounded: drop everything rather than grow forever
		clear(c.entries)
	}
	// Of two answers (a renewal and a look, say), the one asked later is
	// kept: its expiry is the later.
	if prev, ok := c.entries[k]; !ok || !prev.expires.After(now.Add(c.ttl)) {
		c.entries[k] = accessEntry{access: a, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return a, nil
}

// experienceAccess returns nil when the user may use the experience, and
// ErrNoAccess when Whop says they may not.
func (s *core) experienceAccess(ctx context.Context, userID, experienceID string) error {
	a, err := s.access.check(ctx, userID, experienceID)
	if err != nil {
		return err
	}
	if !a.HasAccess {
		return ErrNoAccess
	}
	return nil
}

// companyAdmin returns nil when the user is an admin of the company, and
// ErrNoAccess otherwise (a customer of it included).
func (s *core) companyAdmin(ctx context.Context, userID, companyID string) error {
	a, err := s.access.check(ctx, userID, companyID)
	if err != nil {
		return err
	}
	if !a.HasAccess || a.Level != whop.AccessAdmin {
		return ErrNoAccess
	}
	return nil
}

// ExperienceListing is what Whop says about an experience that anyone may
// learn: its name, its company and the products that give access to it,
// for telling a user without access how to get it.
func (s Access) ExperienceListing(ctx context.Context, experienceID string) (*whop.Experience, error) {
	e, err := s.whop.GetExperience(ctx, experienceID)
	if err != nil {
		return nil, fmt.Errorf("billing: experience listing: %w", err)
	}
	return e, nil
}
