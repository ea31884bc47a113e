package whopsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// What a sandbox restarted on its state file makes of the deliveries the
// last one left undone (outbox.go).

// TestStateFileResumesDeliveriesAcrossRestarts: what the sandbox had not
// finished delivering when it stopped is delivered by the sandbox started
// on the same state file: a delivery waiting for its retry (at the time
// the log promised), one queued behind a slow attempt and one held by the
// hold fault, each once, the first under the delivery number the log shows.
func TestStateFileResumesDeliveriesAcrossRestarts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "whopsim.json")
	arrived := make(chan struct{}, 10)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so the server notices the sender hang up
		arrived <- struct{}{}
		<-r.Context().Done() // until the sender's timeout
	}))
	t.Cleanup(slow.Close)
	b := setup(t, func(o *whopsim.Options) {
		o.StateFile, o.WebhookURL, o.WebhookTimeout = file, slow.URL, 2*time.Second
	})
	// The first attempt hangs until the sender's timeout, long enough for
	// the other two to be queued and held and Close to begin meanwhile.
	b.buy("1", nil) // its attempt times out: a retry is due
	<-arrived
	b.buy("2", nil) // queued behind it
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 2 })
	b.buy("3", nil) // held, waiting for one more
	if err := b.Sim.Close(); err != nil {
		t.Fatal(err)
	}
	before := b.Sim.Deliveries()
	if len(before) != 1 || before[0].Outcome != whopsim.OutcomeRetrying || before[0].NextAt == nil {
		t.Fatalf("log at shutdown = %+v, want the first delivery's retry due", before)
	}
	evs := b.Sim.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}

	c := setup(t, func(o *whopsim.Options) { o.StateFile = file })
	c.idle()
	got := map[string]int{}
	count := func() {
		for _, d := range c.hook.Deliveries() {
			got[d.Header.Get("webhook-id")]++
		}
	}
	count()
	if len(got) != 2 || got[evs[1].ID] != 1 || got[evs[2].ID] != 1 {
		t.Fatalf("delivered after the restart = %v, want the queued %s and the held %s once each", got, evs[1].ID, evs[2].ID)
	}
	c.clock.Advance(10 * time.Second)
	c.idle()
	got = map[string]int{}
	count()
	if len(got) != 3 || got[evs[0].ID] != 1 {
		t.Fatalf("delivered once the retry was due = %v, want %s too, once", got, evs[0].ID)
	}
	var retry *whopsim.Attempt
	for _, a := range c.Sim.Deliveries() {
		if a.EventID == evs[0].ID && a.Attempt == 2 {
			retry = &a
		}
	}
	if retry == nil || retry.Delivery != before[0].Delivery || retry.Outcome != whopsim.OutcomeDelivered {
		t.Errorf("the retry = %+v, want attempt 2 of delivery %d, delivered", retry, before[0].Delivery)
	}
	if n := c.clock.Pending(); n != 0 {
		t.Errorf("%d timers pending after everything was delivered", n)
	}
}

// TestResumeWaitsToBeAskedAndActsOnce: New on a state file with deliveries
// left undone (a retry due, an event held) sends nothing and leaves the
// file alone, so a sandbox made only to print its environment harms
// nothing; Resume sends them, once, and leaves alone what this sandbox
// started itself before it was called (a resend failing, its retry due).
func TestResumeWaitsToBeAskedAndActsOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "whopsim.json")
	b := setup(t, func(o *whopsim.Options) { o.StateFile = file })
	b.hook.Reply(500)
	b.buy("1", nil) // fails: its retry is due at 10 s
	b.idle()
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 2 })
	b.buy("2", nil) // held
	if err := b.Sim.Close(); err != nil {
		t.Fatal(err)
	}
	evs, log := b.Sim.Events(), b.Sim.Deliveries()
	if len(evs) != 2 || len(log) != 1 || log[0].Outcome != whopsim.OutcomeRetrying {
		t.Fatalf("at shutdown: %d events, log %+v; want 2 and a retry due", len(evs), log)
	}
	saved, _ := os.ReadFile(file)
	savedInfo, _ := os.Stat(file)

	clock := whopsim.NewManualClock(start.Add(time.Second))
	hook := whopsimtest.NewReceiver(t)
	sim, err := whopsim.New(whopsim.Options{StateFile: file, Clock: clock, WebhookURL: hook.URL, PaymentDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	now, _ := os.ReadFile(file)
	nowInfo, _ := os.Stat(file)
	if !bytes.Equal(now, saved) || !os.SameFile(savedInfo, nowInfo) {
		t.Error("New rewrote the state file before Resume")
	}
	idle := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sim.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	idle()
	if n := len(hook.Deliveries()); n != 0 || clock.Pending() != 0 {
		t.Fatalf("before Resume: %d sent, %d timers set; want nothing", n, clock.Pending())
	}

	hook.Reply(500)
	resent, err := sim.Resend(log[0].Delivery, false) // this sandbox's own: fails, its retry due at 10 s
	if err != nil {
		t.Fatal(err)
	}
	sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 2 })
	own, err := sim.Trigger(whopsim.TriggerRequest{Event: "payment.succeeded", User: "@bob"}) // this sandbox's own, held
	if err != nil || len(own.Events) != 1 {
		t.Fatalf("trigger: %+v, %v", own, err)
	}
	idle()
	sim.Resume()
	sim.Resume()
	idle()
	clock.Advance(time.Minute)
	idle()
	if n := sim.ReleaseHeld(false); n != 1 {
		t.Errorf("released %d held events, want this sandbox's own one", n)
	}
	idle()
	attempts := map[int64]int{}
	for _, a := range sim.Deliveries() {
		attempts[a.Delivery]++
	}
	sent := map[string]int{}
	for _, d := range hook.Deliveries() {
		sent[d.Header.Get("webhook-id")]++
	}
	if sent[evs[0].ID] != 3 || sent[evs[1].ID] != 1 || sent[own.Events[0].ID] != 1 ||
		attempts[log[0].Delivery] != 2 || attempts[resent.Delivery] != 2 {
		t.Errorf("sent %v, attempts per delivery %v; want %s three times (the old retry, the resend and its retry), %s and %s once",
			sent, attempts, evs[0].ID, evs[1].ID, own.Events[0].ID)
	}
}

// TestOverdueRetriesWaitForTheAppAfterARestart: a sandbox restarted past
// the time of the retries it left due starts before the app does (make
// dev), so it makes them after the first retry delay, not at once into a
// closed port; and in the order they fell due, not the log's.
func TestOverdueRetriesWaitForTheAppAfterARestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "whopsim.json")
	b := setup(t, func(o *whopsim.Options) { o.StateFile = file })
	b.hook.Reply(500, 500, 500)
	b.buy("1", nil) // fails at 0 s, again at 10 s: next at 30 s
	b.idle()
	b.clock.Advance(12 * time.Second)
	b.idle()
	b.buy("2", nil) // fails at 12 s: next at 22 s, before the first's
	b.idle()
	if err := b.Sim.Close(); err != nil {
		t.Fatal(err)
	}
	evs := b.Sim.Events()
	if len(evs) != 2 || len(b.hook.Deliveries()) != 3 {
		t.Fatalf("%d events, %d attempts before the restart; want 2 and 3", len(evs), len(b.hook.Deliveries()))
	}

	clock := whopsim.NewManualClock(start.Add(time.Minute)) // both overdue
	c := setup(t, func(o *whopsim.Options) { o.StateFile, o.Clock = file, clock })
	c.idle()
	clock.Advance(10*time.Second - time.Millisecond)
	c.idle()
	if n := len(c.hook.Deliveries()); n != 0 {
		t.Fatalf("%d retries made within 10 s of the restart, want none yet", n)
	}
	clock.Advance(time.Millisecond)
	c.idle()
	var got []string
	for _, d := range c.hook.Deliveries() {
		got = append(got, d.Header.Get("webhook-id"))
	}
	if want := []string{evs[1].ID, evs[0].ID}; !slices.Equal(got, want) {
		t.Errorf("retries made 10 s after the restart: %v, want %v (the order they fell due)", got, want)
	}
}

// TestARetryPutOffByARestartSurvivesTheNextStop: a sandbox restarted an
// hour after a delivery failed puts its retry off by the first retry
// delay, and is stopped before making it (Ctrl-C as make dev starts, the
// app failing to start). The sandbox started after that still makes the
// retry: the log it was given says when the retry was put off to, so it is
// due, not a retry the last sandbox ran on long past.
func TestARetryPutOffByARestartSurvivesTheNextStop(t *testing.T) {
	file := filepath.Join(t.TempDir(), "whopsim.json")
	b := setup(t, func(o *whopsim.Options) { o.StateFile = file })
	b.hook.Reply(500)
	b.buy("1", nil)
	b.idle()
	if err := b.Sim.Close(); err != nil {
		t.Fatal(err)
	}
	evs := b.Sim.Events()
	if len(evs) != 1 || len(b.hook.Deliveries()) != 1 {
		t.Fatalf("%d events, %d attempts; want one failed attempt", len(evs), len(b.hook.Deliveries()))
	}

	later := whopsim.NewManualClock(start.Add(time.Hour))
	c := setup(t, func(o *whopsim.Options) { o.StateFile, o.Clock = file, later })
	c.idle()
	later.Advance(5 * time.Second) // stopped before the put-off retry
	c.idle()
	if err := c.Sim.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(c.hook.Deliveries()); n != 0 {
		t.Fatalf("%d attempts by the sandbox stopped 5 s after starting, want none", n)
	}

	last := whopsim.NewManualClock(start.Add(time.Hour + 20*time.Second))
	d := setup(t, func(o *whopsim.Options) { o.StateFile, o.Clock = file, last })
	d.idle()
	last.Advance(10 * time.Second)
	d.idle()
	got := d.hook.Deliveries()
	if len(got) != 1 || got[0].Header.Get("webhook-id") != evs[0].ID {
		t.Fatalf("the next sandbox made %d attempts; want the one retry of %s", len(got), evs[0].ID)
	}
	for _, a := range d.Sim.Deliveries() {
		if a.Outcome == whopsim.OutcomeGaveUp {
			t.Errorf("attempt %d of delivery %d gave up: %s", a.Attempt, a.Delivery, a.Error)
		}
	}
}

// TestStaleRetriesFromAnOlderSandboxAreGivenUp: sandboxes before the
// outbox cancelled retries at Close and left their attempts "retrying" in
// the log for good. A retry due long before the file was last saved,
// sessions ago, is not made on a restart, and the log says it gave up; the
// last session's retry is made. Such a file has no saved_at and is dated
// by what it records last; one with saved_at, by that.
func TestStaleRetriesFromAnOlderSandboxAreGivenUp(t *testing.T) {
	for _, tt := range []struct {
		name string
		age  func(t *testing.T, st, first, second map[string]any) // the file, the two deliveries' attempts
		made bool                                                 // whether the second delivery's retry is made
	}{
		{"an older sandbox's file", func(t *testing.T, st, first, second map[string]any) {
			delete(st, "saved_at")
			first["at"], first["next_attempt_at"] = shift(t, first["at"], -2*time.Hour), shift(t, first["next_attempt_at"], -2*time.Hour)
		}, true},
		{"saved by a sandbox that ran on without resuming", func(t *testing.T, st, first, second map[string]any) {
			st["saved_at"] = shift(t, st["saved_at"], 2*time.Hour)
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "whopsim.json")
			b := setup(t, func(o *whopsim.Options) { o.StateFile = file })
			b.hook.Reply(500, 500)
			b.buy("1", nil)
			b.buy("2", nil)
			b.idle()
			if err := b.Sim.Close(); err != nil {
				t.Fatal(err)
			}
			evs := b.Sim.Events()
			if len(evs) != 2 {
				t.Fatalf("%d events, want 2", len(evs))
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var st map[string]any
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			var first, second map[string]any
			for _, v := range st["deliveries"].([]any) {
				if a := v.(map[string]any); a["event_id"] == evs[0].ID {
					first = a
				} else {
					second = a
				}
			}
			tt.age(t, st, first, second)
			if raw, err = json.Marshal(st); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, raw, 0o644); err != nil {
				t.Fatal(err)
			}

			clock := whopsim.NewManualClock(start.Add(3 * time.Hour))
			c := setup(t, func(o *whopsim.Options) { o.StateFile, o.Clock = file, clock })
			clock.Advance(time.Minute)
			c.idle()
			sent := map[string]int{}
			for _, d := range c.hook.Deliveries() {
				sent[d.Header.Get("webhook-id")]++
			}
			want, stale := 0, []map[string]any{first, second}
			if tt.made {
				want, stale = 1, stale[:1]
			}
			if sent[evs[0].ID] != 0 || sent[evs[1].ID] != want {
				t.Errorf("sent after the restart %v, want %s's retry %d times and %s's none", sent, evs[1].ID, want, evs[0].ID)
			}
			for _, a := range stale {
				var last whopsim.Attempt
				for _, got := range c.Sim.Deliveries() {
					if got.Delivery == int64(a["delivery"].(float64)) {
						last = got
					}
				}
				if last.Outcome != whopsim.OutcomeGaveUp || last.NextAt != nil || !strings.Contains(last.Error, "was never made") {
					t.Errorf("stale delivery's last attempt = %+v, want it given up, saying why", last)
				}
			}
		})
	}
}

// shift moves a time written in a state file by d.
func shift(t *testing.T, v any, d time.Duration) string {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, v.(string))
	if err != nil {
		t.Fatal(err)
	}
	return at.Add(d).Format(time.RFC3339Nano)
}
