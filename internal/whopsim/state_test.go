package whopsim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

func TestStateFileKeepsHistoryAcrossRestarts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state", "whopsim.json")
	withFile := func(o *whopsim.Options) { o.StateFile = file }
	b := setup(t, withFile)
	pay, _ := b.buy("4.99", map[string]any{"purchase_id": "pur_s"})
	b.idle()
	if err := b.Sim.SelectUser(b.Seed.Admin.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.Sim.Close(); err != nil {
		t.Fatal(err)
	}

	c := setup(t, withFile)
	fields(t, c.mustAPI("GET", "/api/v1/payments/"+pay, nil), map[string]string{"status": "paid", "metadata.purchase_id": "pur_s"})
	if got := c.Sim.SelectedUser(); got != c.Seed.Admin.ID {
		t.Errorf("selected user = %s, want the admin chosen before the restart", got)
	}
	if n := len(c.Sim.Deliveries()); n != 1 {
		t.Errorf("deliveries after restart = %d, want 1", n)
	}
	if n := len(c.Sim.Events()); n != 1 {
		t.Errorf("events after restart = %d, want 1", n)
	}
	if got := c.balance(c.Seed.Owner.ID); got != "1004.54" {
		t.Errorf("owner balance after restart = %s", got)
	}
}

func TestStateFileRefusals(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte("{"), 0o644)
	if _, err := whopsim.New(whopsim.Options{StateFile: broken}); err == nil {
		t.Error("a broken state file was accepted")
	}
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"app":{"id":"app_someoneelse"}}`), 0o644)
	if _, err := whopsim.New(whopsim.Options{StateFile: other}); err == nil || !strings.Contains(err.Error(), "app_someoneelse") {
		t.Errorf("another app's state: %v", err)
	}
	missing := filepath.Join(dir, "new.json")
	s, err := whopsim.New(whopsim.Options{StateFile: missing})
	if err != nil {
		t.Fatalf("a state file that does not exist yet: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(missing); err != nil {
		t.Errorf("Close did not write the state: %v", err)
	}
}

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
