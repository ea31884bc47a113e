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

// noTTL bounds how long a "not premium" answer is trusted: a member who has
// just paid waits at most this long for what premium decides (the gated
// content, the status the upgrade polls, the page the upgrade re-reads)
// when Whop's webhook is late or lost. A page they open may show the older
// "no" a while longer (checkAt).
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
	// shownUntil (local time) is how long a "no" may still be shown on a
	// page the member opens once it has expired, while Whop is asked again
	// in the background: the cache's TTL from the question, as long as a
	// "yes" is trusted (checkAt). Zero for a "yes", which is never shown
	// expired.
	shownUntil time.Time
}

func newPremiumCache(w Whop, clock membershipClock, cfg PremiumConfig, now func() time.Time) *premiumCache {
	return &premiumCache{whop: w, clock: clock, product: cfg.ProductID, ttl: cfg.TTL, now: now,
		entries: map[string]premiumEntry{}, renewals: newRenewals[string]()}
}

// check answers whether the user holds premium now, for what premium
// decides (the gated content, the upgrade, the status the upgrade polls):
// a cached answer is used only before its expiry.
func (c *premiumCache) check(ctx context.Context, userID string) (bool, error) {
	dbNow, changed, err := c.clock.MembershipClock(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("billing: premium status: %w", err)
	}
	return c.checkAt(ctx, userID, dbNow, changed, false)
}

// checkAt is check with the membership clock already read (the member's
// page reads it with the wallet, in the same round trip). shown is true
// when the answer is only shown, on a page the member opens (its premium
// card offers the upgrade or shows the membership): there an expired "no"
// still answers until its shownUntil while Whop is asked again in the
// background (one renewal per member at a time), so a member who comes
// back after five seconds does not wait for Whop to see a page that says
// what it said a moment ago. Pages after the renewal has answered show its
// answer; while Whop cannot answer, they show the old "no" until
// shownUntil, and then wait for Whop (or its error) as before. A "yes" is
// never shown past its expiry, and no answer past a membership change
// recorded since it was asked: a member whose payment's webhook has
// arrived is asked about at once. The page the upgrade flows re-read is
// not "shown": it takes what premium decides (Credits.Wallet's fresh).
func (c *premiumCache) checkAt(ctx context.Context, userID string, dbNow, changed time.Time, shown bool) (bool, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[userID]
	c.mu.Unlock()
	// Equal times count as a change: trusting less is always safe.
	if ok && changed.Before(e.asked) {
		switch {
		case now.Before(e.expires):
			if e.expires.Sub(now) < renewAhead {
				c.renew(userID, dbNow)
			}
			return e.member, nil
		case shown && now.Before(e.shownUntil):
			c.renew(userID, dbNow)
			return e.member, nil
		}
	}
	return c.ask(ctx, userID, dbNow, now)
}

// renew asks Whop again in the background, as of dbNow; a renewal already
// running for the user is left to answer.
func (c *premiumCache) renew(userID string, dbNow time.Time) {
	c.renewals.start(userID, func(ctx context.Context) { _, _ = c.ask(ctx, userID, dbNow, c.now()) })
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
		e := premiumEntry{member: a.HasAccess, asked: dbNow, expires: now.Add(ttl)}
		if !a.HasAccess {
			e.shownUntil = now.Add(c.ttl)
		}
		c.entries[userID] = e
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
