package billing

import (
	"context"
	"sync"
	"time"
)

// renewTimeout bounds a background renewal's call to Whop.
const renewTimeout = 10 * time.Second

// renewals runs the caches' background renewals (the access and premium
// caches renew an answer that is looked at near its expiry): at most one
// at a time per key, each with its own deadline, since the look that
// started it has answered and gone. A renewal that fails leaves the answer
// to expire, and the next look asks Whop itself (or, for a "no" premium
// answer on a page the member opens, shows it until its shownUntil and
// starts another renewal).
type renewals[K comparable] struct {
	mu      sync.Mutex
	running map[K]bool
}

func newRenewals[K comparable]() *renewals[K] { return &renewals[K]{running: map[K]bool{}} }

// start runs ask for k in the background unless one runs for k already.
func (r *renewals[K]) start(k K, ask func(ctx context.Context)) {
	r.mu.Lock()
	if r.running[k] {
		r.mu.Unlock()
		return
	}
	r.running[k] = true
	r.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), renewTimeout)
		defer cancel()
		ask(ctx)
		r.mu.Lock()
		delete(r.running, k)
		r.mu.Unlock()
	}()
}

// busy is how many renewals run (tests).
func (r *renewals[K]) busy() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.running)
}
