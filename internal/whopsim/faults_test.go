package whopsim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

func TestAPIFaults(t *testing.T) {
	b := setup(t)
	path := "/api/v1/users/" + b.Seed.Admin.ID
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 1; f.APIFailureStatus = 429; f.RetryAfterSeconds = 7 })
	status, out, h := b.do("GET", path, nil, "Authorization", "Bearer "+b.Seed.App.APIKey)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "7" {
		t.Errorf("429 fault = %d Retry-After %q", status, h.Get("Retry-After"))
	}
	fields(t, out, map[string]string{"error.type": "rate_limit_exceeded", "error.message": "Try again in 7 seconds."})

	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureStatus = 503 })
	status, out = b.api("GET", path, nil)
	if status != http.StatusServiceUnavailable || str(t, out, "error.code") != "internal_server_error" {
		t.Errorf("503 fault = %d %v", status, out)
	}
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureStatus = 0 })
	if status, _ = b.api("GET", "/api/v5/app/payments/pay_x", nil); status != 500 {
		t.Errorf("default failure status = %d, want 500", status)
	}

	// A rate of one half fails some and passes some.
	b.Sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 0.5 })
	counts := map[int]int{}
	for range 40 {
		s, _ := b.api("GET", path, nil)
		counts[s]++
	}
	if counts[200] == 0 || counts[500] == 0 || counts[200]+counts[500] != 40 {
		t.Errorf("rate 0.5 over 40 requests: %v", counts)
	}

	b.Sim.SetFaults(whopsim.Faults{APILatencyMS: 120})
	began := time.Now()
	if status, _ = b.api("GET", path, nil); status != 200 {
		t.Errorf("with latency: %d", status)
	}
	if took := time.Since(began); took < 120*time.Millisecond {
		t.Errorf("latency fault: answered in %v, want at least 120 ms", took)
	}
	b.Sim.SetFaults(whopsim.Faults{})
	if status, _ = b.api("GET", path, nil); status != 200 {
		t.Errorf("faults cleared: %d", status)
	}
}
