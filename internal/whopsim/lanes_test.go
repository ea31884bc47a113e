package whopsim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// hookServer is an endpoint that reports each delivery's webhook-id on got
// and, when hang is set, answers only once release is closed.
func hookServer(t *testing.T, got chan<- string, release <-chan struct{}, hang bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.Header.Get("webhook-id")
		if hang {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// receive waits for the next delivery on got. The deadline is generous:
// it only tells a delivery held behind another endpoint's from a slow machine.
func receive(t *testing.T, got <-chan string, who string) string {
	t.Helper()
	select {
	case id := <-got:
		return id
	case <-time.After(10 * time.Second):
		t.Fatalf("%s received nothing in 10 s: its delivery waits behind the hung endpoint's", who)
		return ""
	}
}

// TestAHungEndpointDelaysNoOther: Whop delivers to each endpoint on its
// own, so an endpoint that does not answer (a listener's dev server paused
// in a debugger, say) holds up only its own deliveries. The other endpoint
// gets both events, in order, while the hung one still holds the first;
// once it answers, it gets the second too.
func TestAHungEndpointDelaysNoOther(t *testing.T) {
	for _, hungApp := range []bool{false, true} {
		name := map[bool]string{false: "a hung listener", true: "a hung app"}[hungApp]
		t.Run(name, func(t *testing.T) {
			hungGot, fastGot := make(chan string, 8), make(chan string, 8)
			release := make(chan struct{})
			hung := hookServer(t, hungGot, release, true)
			fast := hookServer(t, fastGot, release, false)
			appURL, listenerURL := fast, hung
			if hungApp {
				appURL, listenerURL = hung, fast
			}
			b := setup(t, func(o *whopsim.Options) { o.WebhookURL, o.WebhookTimeout = appURL, time.Minute })
			t.Cleanup(func() { close(release) }) // before the sandbox closes, which waits for the attempt
			if _, err := b.Sim.AddEndpoint(whopsim.Endpoint{URL: listenerURL}); err != nil {
				t.Fatal(err)
			}

			b.buy("1", nil)
			b.buy("2", nil)
			evs := b.Sim.Events()
			if len(evs) != 2 {
				t.Fatalf("%d events, want 2", len(evs))
			}
			if id := receive(t, hungGot, "the hung endpoint"); id != evs[0].ID {
				t.Fatalf("the hung endpoint got %s first, want %s", id, evs[0].ID)
			}
			for i, ev := range evs {
				if id := receive(t, fastGot, "the other endpoint"); id != ev.ID {
					t.Errorf("the other endpoint's delivery %d is %s, want %s", i+1, id, ev.ID)
				}
			}
			select {
			case id := <-hungGot:
				t.Errorf("the hung endpoint got %s before answering the first", id)
			default:
			}

			release <- struct{}{} // the hung endpoint answers its first delivery
			if id := receive(t, hungGot, "the hung endpoint, once it answered"); id != evs[1].ID {
				t.Errorf("the hung endpoint's second delivery is %s, want %s", id, evs[1].ID)
			}
			release <- struct{}{}
			b.idle()
			log := b.Sim.Deliveries()
			listener := 0
			for _, a := range log {
				if a.Outcome != whopsim.OutcomeDelivered || a.Status != http.StatusOK {
					t.Errorf("attempt %+v: want every one delivered", a)
				}
				if a.Endpoint != "" {
					listener++
				}
			}
			if len(log) != 4 || listener != 2 {
				t.Errorf("%d attempts logged, %d of them the listener's; want 4 and 2", len(log), listener)
			}
		})
	}
}
