package whopsim

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The outbox: what a sandbox restarted on its state file still has to
// deliver. New deliveries (and events the hold fault holds) go in here,
// and are kept in the state until their first attempt is logged; retries
// due are read off the delivery log.

// Unsent is a delivery not attempted yet, as the state file keeps it: a
// queued first attempt (Delivery set), or an event the hold fault holds
// back (Held, no delivery yet).
type Unsent struct {
	EventID  string `json:"event_id"`
	Endpoint string `json:"endpoint,omitempty"`
	Delivery int64  `json:"delivery,omitempty"`
	Dup      bool   `json:"duplicate,omitempty"`
	Held     bool   `json:"held,omitempty"`
}

// enqueueLocked takes freshly created events through the hold and
// duplicate switches and puts them in the outbox, under the state's lock,
// so the save that records the events records their deliveries too: a
// kill between two saves cannot leave an event no delivery will send.
// Held events the hold fault lets go (shuffled) become queued deliveries in
// the same change. The jobs it returns are to be added once the state is
// saved and unlocked.
func (d *sender) enqueueLocked(evs []*Event) []job {
	var jobs []job
	var release []*Event
	f := &d.s.faults
	for _, ev := range evs {
		if takeCounter(&f.HoldNext) {
			d.s.st.Outbox = append(d.s.st.Outbox, Unsent{EventID: ev.ID, Held: true})
			d.mu.Lock()
			d.held = append(d.held, ev)
			if f.HoldNext == 0 {
				release, d.held = d.held, nil
			}
			d.mu.Unlock()
			continue
		}
		jobs = append(jobs, d.pushLocked(ev, takeCounter(&f.DuplicateNext))...)
	}
	d.s.ids.shuffle(len(release), func(i, j int) { release[i], release[j] = release[j], release[i] })
	return append(jobs, d.releaseLocked(release)...)
}

// push starts a new delivery of ev (twice when dup) to the app's webhook
// URL and to every listener's endpoint that wants its type.
func (d *sender) push(ev *Event, dup bool) {
	d.s.mu.Lock()
	jobs := d.pushLocked(ev, dup)
	d.s.persistLocked()
	d.s.mu.Unlock()
	for _, j := range jobs {
		d.add(j)
	}
}

// pushTo starts a new delivery of ev to one endpoint (twice when dup) and
// returns its number.
func (d *sender) pushTo(ev *Event, endpoint string, dup bool) int64 {
	d.s.mu.Lock()
	jobs := d.queueLocked(ev, endpoint, dup)
	d.s.persistLocked()
	d.s.mu.Unlock()
	for _, j := range jobs {
		d.add(j)
	}
	return jobs[0].delivery
}

// pushLocked is push's change to the state: the jobs it returns are to be
// added once the state is saved.
func (d *sender) pushLocked(ev *Event, dup bool) []job {
	var jobs []job
	for _, ep := range d.s.targetsLocked(ev.Type) {
		jobs = append(jobs, d.queueLocked(ev, ep, dup)...)
	}
	return jobs
}

// queueLocked numbers a new delivery of ev to one endpoint (twice when
// dup) and puts it in the outbox, where it stays until its first attempt
// is logged.
func (d *sender) queueLocked(ev *Event, endpoint string, dup bool) []job {
	jobs := []job{{ev: ev, endpoint: endpoint, attempt: 1}}
	if dup {
		jobs = append(jobs, job{ev: ev, endpoint: endpoint, attempt: 1, dup: true})
	}
	st := d.s.st
	for i := range jobs {
		st.Seq++
		jobs[i].delivery = st.Seq
		st.Outbox = append(st.Outbox, Unsent{EventID: ev.ID, Endpoint: endpoint, Delivery: st.Seq, Dup: jobs[i].dup})
	}
	return jobs
}

// releaseHeld delivers the held events now, shuffled or in order.
func (d *sender) releaseHeld(shuffle bool) int {
	d.s.mu.Lock()
	d.mu.Lock()
	evs := d.held
	d.held = nil
	d.mu.Unlock()
	if shuffle {
		d.s.ids.shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	}
	jobs := d.releaseLocked(evs)
	d.s.persistLocked()
	d.s.mu.Unlock()
	for _, j := range jobs {
		d.add(j)
	}
	return len(evs)
}

// releaseLocked turns released events' held entries into queued
// deliveries, in evs's order, in one change to the state, so a kill
// between saves cannot lose them; the jobs it returns are to be added once
// the state is saved.
func (d *sender) releaseLocked(evs []*Event) []job {
	if len(evs) == 0 {
		return nil
	}
	released := map[string]bool{}
	for _, ev := range evs {
		released[ev.ID] = true
	}
	st := d.s.st
	st.Outbox = slices.DeleteFunc(st.Outbox, func(u Unsent) bool { return u.Held && released[u.EventID] })
	var jobs []job
	for _, ev := range evs {
		jobs = append(jobs, d.pushLocked(ev, false)...)
	}
	return jobs
}

// resume picks up, after a restart on a state file, what the sandbox left
// undone when it stopped: deliveries never attempted (the outbox: queued,
// or held by the hold fault, which a restart lets go in order) and retries
// the log says are due (at their time, or the first retry delay from now
// if it has passed). What this
// sandbox has started itself since it loaded the file is its own already.
func (d *sender) resume() {
	s := d.s
	s.mu.Lock()
	d.mu.Lock()
	holding := map[string]bool{}
	for _, ev := range d.held {
		holding[ev.ID] = true
	}
	d.mu.Unlock()
	events := map[string]*Event{}
	for _, ev := range s.st.Events {
		events[ev.ID] = ev
	}
	var queued []job
	var held []*Event
	s.st.Outbox = slices.DeleteFunc(s.st.Outbox, func(u Unsent) bool { return events[u.EventID] == nil })
	for _, u := range s.st.Outbox {
		switch ev := events[u.EventID]; {
		case u.Held && holding[u.EventID], !u.Held && u.Delivery > d.loadedSeq:
		case u.Held:
			held = append(held, ev)
		default:
			queued = append(queued, job{ev: ev, endpoint: u.Endpoint, delivery: u.Delivery, attempt: 1, dup: u.Dup})
		}
	}
	queued = append(queued, d.releaseLocked(held)...)
	last := map[int64]int{} // delivery -> its last attempt in the log
	for i, a := range s.st.Attempts {
		last[a.Delivery] = i
	}
	// A retry overdue (the sandbox was stopped past its time) waits the
	// first retry delay rather than none: the sandbox starts before the
	// app, and an attempt at once would find nothing listening and spend a
	// retry, the last one lost. Retries go in the order they fell due, the
	// overdue ones under one timer, since timers due together fire in no
	// particular order. A listener's endpoint is gone after a restart, so
	// its attempt, which sends nothing, says so at once.
	var grace time.Duration
	if len(s.opts.RetryDelays) > 0 {
		grace = s.opts.RetryDelays[0]
	}
	type due struct {
		j    job
		at   time.Time
		wait time.Duration
	}
	var retries []due
	now := s.clock.Now()
	for i := range s.st.Attempts {
		a := &s.st.Attempts[i]
		if last[a.Delivery] != i || a.Outcome != OutcomeRetrying || a.Delivery > d.loadedSeq {
			continue
		}
		ev := events[a.EventID]
		if ev == nil {
			a.Outcome, a.NextAt = OutcomeGaveUp, nil
			a.Error = strings.TrimSpace(a.Error + " (the sandbox restarted without this event; no retry)")
			continue
		}
		if a.NextAt != nil && a.NextAt.Before(d.staleBefore) {
			a.Outcome = OutcomeGaveUp
			a.Error = strings.TrimSpace(a.Error + " (its retry, due " + a.NextAt.UTC().Format(time.RFC3339) +
				", was never made: the sandbox ran on long past it, so a restart does not make it now)")
			a.NextAt = nil
			continue
		}
		r := due{j: job{ev: ev, endpoint: a.Endpoint, delivery: a.Delivery, attempt: a.Attempt + 1,
			dup: slices.Contains(a.Faults, "duplicate")}, at: a.At}
		if a.NextAt != nil {
			r.at = *a.NextAt
		}
		if a.Endpoint == "" {
			r.wait = max(r.at.Sub(now), grace)
			// The log says when the retry is made now: a stop before
			// then leaves it due, not stale (staleBefore) for the next
			// start to give up.
			next := now.Add(r.wait)
			a.NextAt = &next
		}
		retries = append(retries, r)
	}
	slices.SortStableFunc(retries, func(a, b due) int {
		if a.wait != b.wait {
			return cmp.Compare(a.wait, b.wait)
		}
		return a.at.Compare(b.at)
	})
	s.persistLocked()
	s.mu.Unlock()
	for _, j := range queued {
		d.add(j)
	}
	for i := 0; i < len(retries); {
		var jobs []job
		wait := retries[i].wait
		for ; i < len(retries) && retries[i].wait == wait; i++ {
			jobs = append(jobs, retries[i].j)
		}
		d.schedule(wait, jobs...)
	}
}

// staleBefore is the time before which a retry the log of a loaded state
// says is due is stale: older than a whole retry schedule before the state
// was last saved. The sandbox that saved it was running then, and made every retry
// due that long before unless it never meant to: a version that cancelled
// retries at Close and left them "retrying" for good, sessions ago. Files
// from before SavedAt are dated by the latest attempt or event in them.
func staleBefore(st *State, delays []time.Duration) time.Time {
	last := st.SavedAt
	for _, a := range st.Attempts {
		if a.At.After(last) {
			last = a.At
		}
	}
	for _, ev := range st.Events {
		if ev.CreatedAt.After(last) {
			last = ev.CreatedAt
		}
	}
	var window time.Duration
	for _, d := range delays {
		window += d
	}
	return last.Add(-window)
}
