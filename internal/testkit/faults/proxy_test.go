//go:build faults

package faults

import (
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// balancer is the load balancer in front of the replicas: it hands each
// webhook delivery to the next replica in turn, whether or not that one is
// up (a dead replica's share becomes 502s that Whop must retry), and counts
// what each replica answered.
type balancer struct {
	proxies   []atomic.Pointer[httputil.ReverseProxy]
	transport *http.Transport
	next      atomic.Uint64

	mu     sync.Mutex
	counts []backendCounts
	acked  map[string]bool // delivery ids some replica has answered 2xx
	took   []time.Duration // how long each delivery took to be answered, in order
}

// backendCounts is what one replica answered through the balancer.
type backendCounts struct {
	OK          int // 2xx
	FirstOK     int // 2xx for a delivery id no replica had acknowledged before
	ServerError int // 5xx from the replica itself
	Other       int // any other status (4xx would be a bug: every delivery is signed)
	Unreachable int // no answer at all: refused, reset, killed mid-request
}

func newBalancer(targets ...string) *balancer {
	b := &balancer{counts: make([]backendCounts, len(targets)), acked: map[string]bool{},
		proxies:   make([]atomic.Pointer[httputil.ReverseProxy], len(targets)),
		transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	for i, target := range targets {
		b.move(i, target)
	}
	return b
}

// move sends the i-th replica's share to target from now on: the replica
// came back on another port (see replica.awaitReady).
func (b *balancer) move(i int, target string) {
	u, _ := url.Parse(target)
	p := httputil.NewSingleHostReverseProxy(u)
	p.Transport = b.transport
	p.ModifyResponse = func(res *http.Response) error {
		id := res.Request.Header.Get("webhook-id")
		b.count(i, func(c *backendCounts) {
			switch {
			case res.StatusCode >= 200 && res.StatusCode <= 299:
				c.OK++
				if !b.acked[id] {
					b.acked[id] = true
					c.FirstOK++
				}
			case res.StatusCode >= 500:
				c.ServerError++
			default:
				c.Other++
			}
		})
		return nil
	}
	p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		b.count(i, func(c *backendCounts) { c.Unreachable++ })
		w.WriteHeader(http.StatusBadGateway)
	}
	p.ErrorLog = log.New(io.Discard, "", 0)
	b.proxies[i].Store(p)
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := (b.next.Add(1) - 1) % uint64(len(b.proxies))
	start := time.Now()
	b.proxies[i].Load().ServeHTTP(w, r)
	took := time.Since(start)
	b.mu.Lock()
	b.took = append(b.took, took)
	b.mu.Unlock()
}

// latencies returns how long each delivery since the from-th took.
func (b *balancer) latencies(from int) []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]time.Duration(nil), b.took[min(from, len(b.took)):]...)
}

// answered is how many deliveries the balancer has answered so far.
func (b *balancer) answered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.took)
}

func (b *balancer) count(i int, f func(*backendCounts)) {
	b.mu.Lock()
	f(&b.counts[i])
	b.mu.Unlock()
}

// snapshot returns the counts per replica and their sum.
func (b *balancer) snapshot() (per []backendCounts, total backendCounts) {
	b.mu.Lock()
	defer b.mu.Unlock()
	per = append(per, b.counts...)
	for _, c := range per {
		total.OK += c.OK
		total.FirstOK += c.FirstOK
		total.ServerError += c.ServerError
		total.Other += c.Other
		total.Unreachable += c.Unreachable
	}
	return per, total
}
