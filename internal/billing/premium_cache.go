package billing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
)

// membershipClock is the premium cache's view of the store: the database's
// time and when a user's recorded memberships last changed.
type membershipClock interface {
	MembershipClock(ctx context.Context, userID string) (now, changed time.Time, err error)
}

// noTTL bounds how long a "not premium" answer is kept: a member who has
// just paid waits at most this long when Whop's webhook is late or lost.
const noTTL = 5 * time.Second

// premiumCache remembers Whop's answer to "does this user hold the premium
// product?" for a short while. Several replicas each keep their own, and the
// membership webhook reaches only one of them, so a local "forget" is not
// enough: every answer carries the database time taken just before Whop was
// asked, and is trusted only while no membership change of that user has
// been recorded since. Whop records a change before it sends the webhook,
// and the webhook's transaction starts after that, so a change the answer
// may have missed always carries a later time. That costs one indexed query
// per check, in exchange for never letting a lapsed member in from a cache.
type premiumCache struct {
	whop    Whop
	clock   membershipClock
	product string
	ttl     time.Duration
	now     func() time.Time

	mu       sync.Mutex
	entries  map[string]premiumEntry
	renewals *renewals[string]
}

// renewAhead is how close to its expiry an answer, read for a page, is
// renewed in the background: a member who keeps using the app never waits
// for Whop once their answer is cached, where each "no" (kept 5 s) cost one
// of their page loads a round trip to Whop every five seconds. An answer is
// still never used past its expiry or past a membership change; one that
// runs out with nobody looking is asked again, as before, by the next look.
const renewAhead = 500 * time.Millisecond

type premiumEntry struct {
	member  bool
	asked   time.Time // database time just before Whop was asked
	expires time.Time // local time
}

func newPremiumCache(w Whop, clock membershipClock, cfg PremiumConfig, now func() time.Time) *premiumCache {
	return &premiumCache{whop: w, clock: clock, product: cfg.ProductID, ttl: cfg.TTL, now: now,
		entries: map[string]premiumEntry{}, renewals: newRenewals[string]()}
}

func (c *premiumCache) check(ctx context.Context, userID string) (bool, error) {
	dbNow, changed, err := c.clock.MembershipClock(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("billing: premium status: %w", err)
	}
	return c.checkAt(ctx, userID, dbNow, changed)
}

// checkAt is check with the membership clock already read (the member's
// page reads it with the wallet, in the same round trip).
func (c *premiumCache) checkAt(ctx context.Context, userID string, dbNow, changed time.Time) (bool, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[userID]
	c.mu.Unlock()
	// Equal times count as a change: trusting less is always safe.
	if ok && now.Before(e.expires) && changed.Before(e.asked) {
		if e.expires.Sub(now) < renewAhead {
			c.renewals.start(userID, func(ctx context.Context) { _, _ = c.ask(ctx, userID, dbNow, c.now()) })
		}
		return e.member, nil
	}
	return c.ask(ctx, userID, dbNow, now)
}

// ask asks Whop and keeps the answer, taken as of dbNow (the database time
// read before the question) and trusted for its TTL from now (the local
// time read before it).
func (c *premiumCache) ask(ctx context.Context, userID string, dbNow, now time.Time) (bool, error) {
	a, err := c.whop.CheckAccess(ctx, userID, c.product)
	switch {
	case errors.Is(err, whop.ErrNotFound):
		a = whop.Access{Level: whop.AccessNone}
	case err != nil:
		return false, fmt.Errorf("billing: premium access check: %w", err)
	}
	ttl := c.ttl
	if !a.HasAccess {
		ttl = min(ttl, noTTL)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 50_000 { // bounded: drop everything rather than grow forever
		clear(c.entries)
	}
	// A slower concurrent check may finish last with an older answer; the
	// one asked later is the one to keep.
	if prev, ok := c.entries[userID]; !ok || !prev.asked.After(dbNow) {
		c.entries[userID] = premiumEntry{member: a.HasAccess, asked: dbNow, expires: now.Add(ttl)}
	}
	return a.HasAccess, nil
}

// forget drops a user's answer on this replica; the others learn of the
// change from the memberships table.
func (c *premiumCache) forget(userID string) {
	c.mu.Lock()
	delete(c.entries, userID)
	c.mu.Unlock()
}
