package whopsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// The saved outbox holds every delivery not attempted yet, whenever the
// sandbox might be killed.

// watchedRandom is a source of randomness that first runs check: a test
// looks at the state file at each moment the sandbox draws randomness.
type watchedRandom struct {
	r     io.Reader
	check func()
}

func (w watchedRandom) Read(p []byte) (int, error) {
	w.check()
	return w.r.Read(p)
}

// TestReleasedHeldEventsNeverLeaveTheStateFile: a hard kill can come at any
// moment, so each held event must be in the saved outbox, held or queued,
// until its first attempt is logged. Held events released (here by the
// hold fault's count running out, in shuffled order) used to leave it
// before their deliveries were queued, while the sandbox drew the shuffle.
func TestReleasedHeldEventsNeverLeaveTheStateFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "whopsim.json")
	var mu sync.Mutex
	var watched []string // held events' ids
	var lost []string
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		raw, err := os.ReadFile(file)
		if err != nil || len(watched) == 0 {
			return
		}
		var st whopsim.State
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Errorf("state file: %v", err)
			return
		}
		for _, id := range watched {
			in := slices.ContainsFunc(st.Outbox, func(u whopsim.Unsent) bool { return u.EventID == id }) ||
				slices.ContainsFunc(st.Attempts, func(a whopsim.Attempt) bool { return a.EventID == id })
			if !in && !slices.Contains(lost, id) {
				lost = append(lost, id)
			}
		}
	}
	b := setup(t, func(o *whopsim.Options) {
		o.StateFile = file
		o.Random = watchedRandom{r: o.Random, check: check}
	})
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 2 })
	b.buy("1", nil) // held
	b.idle()
	evs := b.Sim.Events()
	if len(evs) != 1 || len(b.hook.Deliveries()) != 0 {
		t.Fatalf("%d events, %d sent; want one held", len(evs), len(b.hook.Deliveries()))
	}
	mu.Lock()
	watched = append(watched, evs[0].ID)
	mu.Unlock()
	b.buy("2", nil) // held too, which lets both go
	b.idle()
	if n := len(b.hook.Deliveries()); n != 2 {
		t.Errorf("%d sent once released, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lost) > 0 {
		t.Errorf("held events %v were, for a moment, neither held nor queued in the state file", lost)
	}
}

// TestAResetDoesNotReuseDeliveryNumbers: an attempt in flight across a
// reset finishes afterwards. Had the reset started the numbers again, the
// first delivery after it would have the old one's number, and that old
// attempt, logged, would take the new delivery out of the saved outbox
// before it was ever attempted (and a watcher asking for attempts after
// the last it saw would wait for numbers already used).
func TestAResetDoesNotReuseDeliveryNumbers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "whopsim.json")
	arrived, answer := make(chan string), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- r.Header.Get("webhook-id")
		<-answer
	}))
	t.Cleanup(slow.Close)
	b := setup(t, func(o *whopsim.Options) { o.StateFile, o.WebhookURL = file, slow.URL })
	b.buy("1", nil)
	<-arrived // in flight
	b.Sim.Reset()
	b.buy("2", nil) // queued behind it
	evs := b.Sim.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events after the reset, want 1", len(evs))
	}
	answer <- struct{}{} // the old attempt ends (unlogged: its state is gone)
	if got := <-arrived; got != evs[0].ID {
		t.Fatalf("then sent %s, want %s", got, evs[0].ID)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var st whopsim.State
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(st.Outbox, func(u whopsim.Unsent) bool { return u.EventID == evs[0].ID }) {
		t.Errorf("the delivery in flight is not in the saved outbox: %+v", st.Outbox)
	}
	answer <- struct{}{}
	b.idle()
	numbers := map[int64]string{}
	for _, a := range b.Sim.Deliveries() {
		if other, ok := numbers[a.Delivery]; ok && other != a.EventID {
			t.Errorf("delivery %d is both %s and %s", a.Delivery, other, a.EventID)
		}
		numbers[a.Delivery] = a.EventID
	}
}

// TestAResetForgetsWhatTheOldStateHadToSend: one delivery in flight and
// one queued behind it when the sandbox is reset. The one in flight fails;
// it is neither retried nor logged in the new state, and the queued one is
// never sent: both belong to a state that is gone.
func TestAResetForgetsWhatTheOldStateHadToSend(t *testing.T) {
	arrived, answer := make(chan string, 4), make(chan struct{})
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- r.Header.Get("webhook-id")
		<-answer
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	b := setup(t, func(o *whopsim.Options) { o.WebhookURL = failing.URL })
	b.buy("1", nil)
	first := <-arrived // in flight
	b.buy("2", nil)    // queued behind it
	if n := len(b.Sim.Events()); n != 2 {
		t.Fatalf("%d events before the reset, want 2", n)
	}
	b.Sim.Reset()
	close(answer) // the attempt in flight fails now, and every later one at once
	b.idle()
	b.clock.Advance(2 * time.Minute) // past every retry the old state had
	b.idle()
	if n := len(arrived); n != 0 {
		t.Fatalf("%d more attempts after the reset (first %s), want none", n, first)
	}
	if evs, log := b.Sim.Events(), b.Sim.Deliveries(); len(evs) != 0 || len(log) != 0 {
		t.Fatalf("the new state has %d events and %d attempts, want none: %+v", len(evs), len(log), log)
	}
}
