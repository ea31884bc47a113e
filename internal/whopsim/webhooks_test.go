package whopsim_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// verify checks a received delivery with the app's verifier at time now.
func (b *bundle) verify(d int, now time.Time) (*whop.Event, error) {
	b.t.Helper()
	got := b.hook.Deliveries()
	if d >= len(got) {
		b.t.Fatalf("delivery %d: only %d received", d, len(got))
	}
	v := whop.NewWebhookVerifier(b.Seed.App.WebhookSecret, whop.WithWebhookClock(func() time.Time { return now }))
	return v.Verify(got[d].Header, got[d].Body)
}

func TestRetryScheduleWithAFakeClock(t *testing.T) {
	b := setup(t)
	b.hook.Reply(500, 502, 503, 500)
	pay, _ := b.buy("1", nil)
	b.idle()
	step := func(d time.Duration) {
		t.Helper()
		b.clock.Advance(d)
		b.idle()
	}
	step(10*time.Second - time.Millisecond)
	if n := len(b.Sim.Deliveries()); n != 1 {
		t.Fatalf("%d attempts before 10 s, want 1", n)
	}
	step(time.Millisecond)
	step(20 * time.Second)
	step(40 * time.Second)
	step(time.Hour)
	attempts := b.Sim.Deliveries()
	offsets := []time.Duration{0, 10 * time.Second, 30 * time.Second, 70 * time.Second}
	statuses := []int{500, 502, 503, 500}
	outcomes := []string{"retrying", "retrying", "retrying", "gave_up"}
	if len(attempts) != 4 {
		t.Fatalf("%d attempts, want 4 (the first and three retries): %+v", len(attempts), attempts)
	}
	for i, a := range attempts {
		if got := a.At.Sub(start); got != offsets[i] {
			t.Errorf("attempt %d at +%v, want +%v", i+1, got, offsets[i])
		}
		if a.Attempt != i+1 || a.Status != statuses[i] || a.Outcome != outcomes[i] || a.Type != "payment.succeeded" {
			t.Errorf("attempt %d = %+v", i+1, a)
		}
		if a.Delivery != attempts[0].Delivery {
			t.Errorf("attempt %d belongs to delivery %d, want %d", i+1, a.Delivery, attempts[0].Delivery)
		}
	}
	if a := attempts[0]; a.NextAt == nil || !a.NextAt.Equal(start.Add(10*time.Second)) {
		t.Errorf("first attempt's next_attempt_at = %v, want +10 s", a.NextAt)
	}
	if attempts[3].NextAt != nil || b.clock.Pending() != 0 {
		t.Errorf("after giving up: next %v, %d timers pending", attempts[3].NextAt, b.clock.Pending())
	}
	got := b.hook.Deliveries()
	if len(got) != 4 {
		t.Fatalf("receiver got %d deliveries, want 4", len(got))
	}
	for i, d := range got {
		if d.Header.Get("webhook-id") != got[0].Header.Get("webhook-id") || !strings.Contains(string(d.Body), pay) {
			t.Errorf("attempt %d is not the same message: id %q", i+1, d.Header.Get("webhook-id"))
		}
		if want := start.Add(offsets[i]); d.Header.Get("webhook-timestamp") != itoa(want.Unix()) {
			t.Errorf("attempt %d signed at %s, want %d", i+1, d.Header.Get("webhook-timestamp"), want.Unix())
		}
	}
}

func TestRetryStopsOnSuccessAndOnTimeout(t *testing.T) {
	b := setup(t)
	b.hook.Reply(500)
	b.buy("1", nil)
	b.idle()
	b.clock.Advance(10 * time.Second)
	b.idle()
	a := b.Sim.Deliveries()
	if len(a) != 2 || a[1].Outcome != "delivered" || a[1].Status != 200 || b.clock.Pending() != 0 {
		t.Errorf("attempts = %+v, want a retry that delivered and nothing pending", a)
	}

	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) })
	c := setup(t, func(o *whopsim.Options) { o.WebhookURL = slow.URL; o.WebhookTimeout = 50 * time.Millisecond })
	c.buy("1", nil)
	c.idle()
	first := c.Sim.Deliveries()[0]
	if first.Status != 0 || first.Outcome != "retrying" || !strings.Contains(first.Error, "deadline") {
		t.Errorf("timed-out attempt = %+v, want status 0, an error and a retry", first)
	}
}

func TestBothSigningSchemesVerify(t *testing.T) {
	for _, scheme := range []whopsim.Scheme{whopsim.Standard, whopsim.Legacy} {
		t.Run(string(scheme), func(t *testing.T) {
			b := setup(t, func(o *whopsim.Options) { o.WebhookScheme = scheme })
			pay, co := b.buy("4.99", map[string]any{"purchase_id": "pur_5"})
			b.idle()
			ev, err := b.verify(0, start)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			wantType, wantVersion := "payment.succeeded", "v1"
			if scheme == whopsim.Legacy {
				wantVersion = "v5"
			}
			if ev.Type != wantType || ev.APIVersion != wantVersion || ev.CompanyID != b.Seed.Owner.ID {
				t.Errorf("event = %+v", ev)
			}
			if scheme == whopsim.Standard && ev.ID != b.Sim.Events()[0].ID {
				t.Errorf("event id %q, want the webhook-id %q", ev.ID, b.Sim.Events()[0].ID)
			}
			p, err := ev.Payment()
			if err != nil {
				t.Fatalf("payment: %v", err)
			}
			if p.ID != pay || !p.IsPaid() || p.Total != 499 || p.AmountAfterFees != 454 ||
				p.Metadata["purchase_id"] != "pur_5" || p.UserID != b.Seed.Members[0].ID || p.CompanyID != b.Seed.Owner.ID {
				t.Errorf("payment = %+v", p)
			}
			// v5 names the configuration checkout_id, which the app's
			// decoder does not read (yet); v1's name it does.
			if scheme == whopsim.Standard && p.CheckoutConfigurationID != co {
				t.Errorf("checkout configuration = %q, want %q", p.CheckoutConfigurationID, co)
			}
			if _, err := b.verify(0, start.Add(301*time.Second)); !errors.Is(err, whop.ErrTimestampOutOfRange) {
				t.Errorf("verify 301 s later: %v, want ErrTimestampOutOfRange", err)
			}
		})
	}
}

func TestDeliveryFaults(t *testing.T) {
	b := setup(t)
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.BadSignatureNext = 1; f.TimestampSkewSeconds = -400 })
	b.buy("1", nil)
	b.idle()
	if _, err := b.verify(0, start); !errors.Is(err, whop.ErrInvalidSignature) {
		t.Errorf("bad_signature_next: %v, want ErrInvalidSignature", err)
	}
	b.buy("2", nil)
	b.idle()
	if _, err := b.verify(1, start); !errors.Is(err, whop.ErrTimestampOutOfRange) {
		t.Errorf("stale timestamp: %v, want ErrTimestampOutOfRange", err)
	}
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.TimestampSkewSeconds = 400 })
	b.buy("3", nil)
	b.idle()
	if _, err := b.verify(2, start); !errors.Is(err, whop.ErrTimestampOutOfRange) {
		t.Errorf("future timestamp: %v, want ErrTimestampOutOfRange", err)
	}
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.TimestampSkewSeconds = 0; f.DropNext = 1 })
	b.buy("4", nil)
	b.idle()
	if n := len(b.hook.Deliveries()); n != 3 {
		t.Errorf("drop_next: receiver has %d, want still 3", n)
	}
	last := b.Sim.Deliveries()[3]
	if last.Outcome != "dropped" || b.clock.Pending() != 0 {
		t.Errorf("dropped attempt = %+v (pending %d), want dropped with no retry", last, b.clock.Pending())
	}
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.DuplicateNext = 1 })
	b.buy("5", nil)
	b.idle()
	got := b.hook.Deliveries()
	if len(got) != 5 || got[3].Header.Get("webhook-id") != got[4].Header.Get("webhook-id") {
		t.Errorf("duplicate_next: %d deliveries; last two ids %q %q", len(got), got[3].Header.Get("webhook-id"), got[4].Header.Get("webhook-id"))
	}
	for i := 3; i < 5; i++ {
		if _, err := b.verify(i, start); err != nil {
			t.Errorf("duplicate %d does not verify: %v", i, err)
		}
	}
	if f := b.Sim.Faults(); f.DropNext != 0 || f.DuplicateNext != 0 || f.BadSignatureNext != 0 {
		t.Errorf("counters did not count down: %+v", f)
	}
}

// TestFaultCountersWaitForASend: drop_next and bad_signature_next apply to
// attempts that would POST. With no webhook URL nothing is sent, so the
// counters stay; a dropped attempt sends nothing, so the bad signature
// waits for the next one, which does.
func TestFaultCountersWaitForASend(t *testing.T) {
	b := setup(t, func(o *whopsim.Options) { o.WebhookURL = "" })
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1; f.BadSignatureNext = 1 })
	b.buy("1", nil)
	b.idle()
	if a := b.Sim.Deliveries(); len(a) != 1 || a[0].Outcome != whopsim.OutcomeNoEndpoint {
		t.Fatalf("attempts = %+v, want one with no endpoint", a)
	}
	if f := b.Sim.Faults(); f.DropNext != 1 || f.BadSignatureNext != 1 {
		t.Fatalf("faults after an attempt with no endpoint = %+v, want both counters still 1", f)
	}
	if err := b.Sim.SetWebhook(b.hook.URL, whopsim.Standard); err != nil {
		t.Fatal(err)
	}
	b.buy("2", nil)
	b.idle()
	if a := b.Sim.Deliveries(); len(a) != 2 || a[1].Outcome != whopsim.OutcomeDropped || len(b.hook.Deliveries()) != 0 {
		t.Fatalf("attempts = %+v, want the second dropped", a)
	}
	if f := b.Sim.Faults(); f.DropNext != 0 || f.BadSignatureNext != 1 {
		t.Fatalf("faults after a dropped attempt = %+v, want the bad signature still to come", f)
	}
	b.buy("3", nil)
	b.idle()
	if _, err := b.verify(0, start); !errors.Is(err, whop.ErrInvalidSignature) {
		t.Errorf("the first attempt sent: %v, want ErrInvalidSignature", err)
	}
	if f := b.Sim.Faults(); f.BadSignatureNext != 0 {
		t.Errorf("bad_signature_next = %d after it applied, want 0", f.BadSignatureNext)
	}
}

func TestHoldShuffleAndRedeliver(t *testing.T) {
	b := setup(t)
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 4 })
	var ids []string
	for range 3 {
		b.buy("1", nil)
		b.idle()
		if n := len(b.hook.Deliveries()); n != 0 {
			t.Fatalf("held events delivered early: %d", n)
		}
	}
	pay, _ := b.buy("1", nil)
	b.idle()
	for _, ev := range b.Sim.Events() {
		ids = append(ids, ev.ID)
	}
	got := b.hook.Deliveries()
	var order []string
	for _, d := range got {
		order = append(order, d.Header.Get("webhook-id"))
	}
	if len(order) != 4 || strings.Join(order, ",") == strings.Join(ids, ",") {
		t.Errorf("released %v; want all 4 in an order other than %v", order, ids)
	}

	if err := b.Sim.Redeliver(ids[0], 2); err != nil {
		t.Fatal(err)
	}
	if err := b.Sim.Deliver([]string{ids[2], ids[1]}, false); err != nil {
		t.Fatal(err)
	}
	b.idle()
	got = b.hook.Deliveries()[4:]
	var again []string
	for _, d := range got {
		again = append(again, d.Header.Get("webhook-id"))
	}
	if want := []string{ids[0], ids[0], ids[2], ids[1]}; strings.Join(again, ",") != strings.Join(want, ",") {
		t.Errorf("redeliveries %v, want %v", again, want)
	}
	if err := b.Sim.Redeliver("msg_nope", 1); !errors.Is(err, whopsim.ErrNotFound) {
		t.Errorf("redeliver unknown: %v", err)
	}
	if !strings.Contains(string(b.Sim.Events()[3].Body), pay) {
		t.Error("the fourth event is not the last payment")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if all, err := b.Sim.AwaitAttempts(ctx, 8); err != nil || len(all) != 8 {
		t.Errorf("AwaitAttempts(8) = %d, %v", len(all), err)
	}
}

func itoa(n int64) string { return formatInt(n) }

// TestRedirectIsAFailedAttempt: a receiver answering 302 has not taken the
// delivery (following it would lose the POST's body and count the target's
// answer), so the attempt fails and is retried, and the target sees nothing.
func TestRedirectIsAFailedAttempt(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	t.Cleanup(target.Close)
	moved := httptest.NewServer(http.RedirectHandler(target.URL+"/hook", http.StatusFound))
	t.Cleanup(moved.Close)
	b := setup(t, func(o *whopsim.Options) { o.WebhookURL = moved.URL })
	b.buy("1", nil)
	b.idle()
	a := b.Sim.Deliveries()
	if len(a) != 1 || a[0].Status != http.StatusFound || a[0].Outcome != whopsim.OutcomeRetrying ||
		!strings.Contains(a[0].Error, target.URL+"/hook") || a[0].NextAt == nil {
		t.Fatalf("attempts = %+v, want one 302 naming the redirect, retrying", a)
	}
	b.clock.Advance(10 * time.Second)
	b.idle()
	if a = b.Sim.Deliveries(); len(a) != 2 || a[1].Attempt != 2 || a[1].Status != http.StatusFound {
		t.Errorf("attempts = %+v, want the retry redirected too", a)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests, want none", n)
	}
}
