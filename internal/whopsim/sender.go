package whopsim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
)

// job is one attempt waiting to be made. endpoint is "" for the app's
// webhook URL, or the id of an endpoint a listener added.
type job struct {
	ev       *Event
	endpoint string
	delivery int64
	attempt  int
	dup      bool
}

// sender delivers webhooks, each endpoint (the app's webhook URL, every
// listener's) from a queue of its own, as Whop delivers to each endpoint
// independently: an endpoint that is slow, hung or timing out holds up
// only its own deliveries. With one worker per endpoint (the default) an
// endpoint gets its deliveries of one action (payment.succeeded, then
// membership.activated) in the order they happened unless a fault
// reorders them; Options.WebhookConcurrency allows more per endpoint, as
// Whop's own delivery does. Retries re-enter their endpoint's queue when
// their timer fires.
type sender struct {
	s *Sim

	mu      sync.Mutex
	lanes   map[string]*lane // by endpoint id, "" the app's; dropped once drained
	busy    int              // queued plus running, across lanes
	held    []*Event
	timers  map[int64]func() bool
	timerID int64
	closed  bool
	// resets counts Reset calls: an attempt in flight across one belongs
	// to the state before it, and neither retries nor enters the new log.
	resets  int
	changed chan struct{} // closed and replaced on every change, for waiters
	done    sync.WaitGroup

	// What the state had when it was loaded, for resume (outbox.go), which
	// acts once: deliveries numbered up to loadedSeq are a previous
	// sandbox's, and retries it left due before staleBefore are stale.
	loadedSeq   int64
	staleBefore time.Time
	resumeOnce  sync.Once
}

// lane is one endpoint's queue and the workers draining it, guarded by
// sender.mu.
type lane struct {
	queue   []job
	workers int // at most Options.WebhookConcurrency
}

// newSender makes the sender of a Sim whose state has just been loaded.
func newSender(s *Sim) *sender {
	return &sender{s: s, lanes: map[string]*lane{}, timers: map[int64]func() bool{}, changed: make(chan struct{}),
		loadedSeq: s.st.Seq, staleBefore: staleBefore(s.st, s.opts.RetryDelays)}
}

// notifyLocked wakes everyone waiting for a change.
func (d *sender) notifyLocked() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// add queues one attempt on its endpoint's lane and makes sure a worker
// drains it.
func (d *sender) add(j job) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	l := d.lanes[j.endpoint]
	if l == nil {
		l = &lane{}
		d.lanes[j.endpoint] = l
	}
	l.queue = append(l.queue, j)
	d.busy++
	d.notifyLocked()
	if l.workers < d.s.opts.WebhookConcurrency {
		l.workers++
		d.done.Add(1)
		go d.work(j.endpoint, l)
	}
}

// work drains one endpoint's lane, then exits, and the last worker out
// drops the lane, so endpoints a listener removed leave nothing behind;
// add starts workers (and lanes) again.
func (d *sender) work(endpoint string, l *lane) {
	defer d.done.Done()
	for {
		d.mu.Lock()
		if len(l.queue) == 0 {
			l.workers--
			if l.workers == 0 && d.lanes[endpoint] == l {
				delete(d.lanes, endpoint)
			}
			d.mu.Unlock()
			return
		}
		j := l.queue[0]
		l.queue = l.queue[1:]
		resets := d.resets
		d.mu.Unlock()

		d.attempt(j, resets)

		d.mu.Lock()
		d.busy--
		d.notifyLocked()
		d.mu.Unlock()
	}
}

// attempt makes one delivery attempt and schedules the next on failure,
// unless the state was reset since it was taken (resets is the count then).
func (d *sender) attempt(j job, resets int) {
	s := d.s
	s.mu.Lock()
	url, scheme, secret := s.targetLocked(j.endpoint)
	// The counters apply to attempts that would send: one with no URL, or
	// one dropped, leaves the next fault for an attempt that does.
	drop := url != "" && takeCounter(&s.faults.DropNext)
	badSig := url != "" && !drop && takeCounter(&s.faults.BadSignatureNext)
	skew := time.Duration(s.faults.TimestampSkewSeconds) * time.Second
	s.mu.Unlock()

	a := Attempt{Delivery: j.delivery, EventID: j.ev.ID, Type: j.ev.Type, Attempt: j.attempt,
		At: s.clock.Now(), Scheme: scheme, URL: url, Endpoint: j.endpoint}
	if j.dup {
		a.Faults = append(a.Faults, "duplicate")
	}
	switch {
	case url == "":
		a.Outcome = OutcomeNoEndpoint
	case drop:
		a.Outcome = OutcomeDropped
		a.Faults = append(a.Faults, "dropped")
	default:
		if badSig {
			secret = "ws_" + strings.Repeat("0", 64)
			a.Faults = append(a.Faults, "bad_signature")
		}
		if skew != 0 {
			a.Faults = append(a.Faults, fmt.Sprintf("timestamp_skew=%ds", int(skew/time.Second)))
		}
		start := time.Now()
		a.Status, a.Error = d.post(url, scheme, secret, j.ev, a.At.Add(skew))
		a.ElapsedMS = time.Since(start).Milliseconds()
		a.Outcome = OutcomeDelivered
	}
	d.mu.Lock()
	reset := d.resets != resets
	d.mu.Unlock()
	if reset {
		s.log.Info("whopsim: webhook attempt made across a reset: not logged, not retried", "event", a.EventID,
			"status", a.Status, "error", a.Error)
		return
	}
	if a.Outcome == OutcomeDelivered && (a.Status < 200 || a.Status > 299) {
		a.Outcome = d.retry(j, &a)
	}
	s.log.Info("whopsim: webhook attempt", "event", a.EventID, "type", a.Type, "attempt", a.Attempt,
		"status", a.Status, "outcome", a.Outcome, "error", a.Error)
	s.mu.Lock()
	if j.attempt == 1 {
		s.st.Outbox = slices.DeleteFunc(s.st.Outbox, func(u Unsent) bool { return !u.Held && u.Delivery == j.delivery })
	}
	s.st.Seq++
	a.Seq = s.st.Seq
	s.st.Attempts = append(s.st.Attempts, a)
	if n := len(s.st.Attempts); n > s.opts.KeepAttempts {
		s.st.Attempts = append([]Attempt(nil), s.st.Attempts[n-s.opts.KeepAttempts:]...)
	}
	s.persistLocked()
	s.mu.Unlock()
}

// retry schedules the next attempt of a failed one, if any are left, and
// returns the outcome to record.
func (d *sender) retry(j job, a *Attempt) string {
	delays := d.s.opts.RetryDelays
	if j.attempt > len(delays) {
		return OutcomeGaveUp
	}
	wait := delays[j.attempt-1]
	next := a.At.Add(wait)
	a.NextAt = &next
	// Shutting down, the retry is not scheduled but stays due in the log,
	// where a sandbox restarted on the same state file finds it.
	d.schedule(wait, job{ev: j.ev, endpoint: j.endpoint, delivery: j.delivery, attempt: j.attempt + 1, dup: j.dup})
	return OutcomeRetrying
}

// schedule queues jobs, in order, after wait, unless the sender is closed
// by then.
func (d *sender) schedule(wait time.Duration, jobs ...job) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.timerID++
	id := d.timerID
	d.timers[id] = d.s.clock.AfterFunc(wait, func() {
		d.mu.Lock()
		_, live := d.timers[id]
		delete(d.timers, id)
		d.mu.Unlock()
		if !live {
			return
		}
		for _, j := range jobs {
			d.add(j)
		}
	})
}

// post sends one signed delivery and returns the response status, or 0 and
// the error when there was no response (refused, timed out).
func (d *sender) post(url string, scheme Scheme, secret string, ev *Event, ts time.Time) (int, string) {
	body := []byte(ev.Body)
	if scheme == Legacy {
		body = []byte(ev.Legacy)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.s.opts.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Whop-Sandbox-Webhooks/1")
	if scheme == Legacy {
		whop.SetLegacyHeaders(req.Header, secret, ts, body)
	} else {
		whop.SetStandardHeaders(req.Header, secret, ev.ID, ts, body)
	}
	resp, err := d.s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp.StatusCode, ""
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode <= 399 && loc != "" {
		return resp.StatusCode, "redirect to " + loc + " not followed: webhooks need a 2xx from the URL itself"
	}
	return resp.StatusCode, strings.TrimSpace(string(msg))
}

// forget drops what the state before a reset still had to send: its
// scheduled retries, its queued attempts and, through resets, the retry
// and log entry of an attempt in flight.
func (d *sender) forget() {
	d.cancelTimers()
	d.mu.Lock()
	d.resets++
	d.dropQueuedLocked()
	d.mu.Unlock()
}

// dropQueuedLocked empties every lane's queue; attempts in flight finish,
// and their workers then find nothing more to do.
func (d *sender) dropQueuedLocked() {
	for _, l := range d.lanes {
		d.busy -= len(l.queue)
		l.queue = nil
	}
	d.notifyLocked()
}

// cancelTimers forgets every scheduled retry.
func (d *sender) cancelTimers() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, stop := range d.timers {
		stop()
		delete(d.timers, id)
	}
	d.held = nil
}

// close cancels retries, refuses new work and waits for the workers.
func (d *sender) close() {
	d.cancelTimers()
	d.mu.Lock()
	d.closed = true
	d.dropQueuedLocked()
	d.mu.Unlock()
	d.done.Wait()
}
