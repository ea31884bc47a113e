package whopsim

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func TestMajorUnits(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		major    string
	}{
		{499, "usd", "4.99"}, {1000, "usd", "10"}, {1050, "usd", "10.5"}, {5, "usd", "0.05"}, {0, "usd", "0"},
		{-250, "usd", "-2.5"}, {500, "jpy", "500"}, {1234, "kwd", "1.234"}, {999, "whop_usd", "9.99"},
	}
	for _, tt := range tests {
		if got := major(tt.minor, tt.currency); string(got) != tt.major {
			t.Errorf("major(%d %s) = %s, want %s", tt.minor, tt.currency, got, tt.major)
		}
		back, err := parseMajor(json.Number(tt.major), tt.currency)
		if err != nil || back != tt.minor {
			t.Errorf("parseMajor(%s %s) = %d, %v, want %d", tt.major, tt.currency, back, err, tt.minor)
		}
	}
	for _, bad := range []struct{ n, c string }{{"4.999", "usd"}, {"1.5", "jpy"}, {"1e3", "usd"}, {"", "usd"}, {"abc", "usd"}, {".5", "usd"}} {
		if v, err := parseMajor(json.Number(bad.n), bad.c); err == nil {
			t.Errorf("parseMajor(%q %s) = %d, want an error", bad.n, bad.c, v)
		}
	}
}

func TestManualClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewManualClock(t0)
	var mu sync.Mutex
	var fired []time.Duration
	record := func() { mu.Lock(); fired = append(fired, c.Now().Sub(t0)); mu.Unlock() }
	c.AfterFunc(3*time.Second, record)
	stop := c.AfterFunc(2*time.Second, record)
	c.AfterFunc(time.Second, func() {
		record()
		c.AfterFunc(time.Second, record) // due at 2 s, inside the same advance
	})
	if !stop() || stop() {
		t.Error("Stop should succeed once")
	}
	c.Advance(2500 * time.Millisecond)
	if len(fired) != 2 || fired[0] != time.Second || fired[1] != 2*time.Second || c.Now() != t0.Add(2500*time.Millisecond) {
		t.Errorf("fired at %v, now %v", fired, c.Now())
	}
	if c.Pending() != 1 {
		t.Errorf("pending = %d, want the 3 s timer", c.Pending())
	}
	c.Advance(time.Second)
	if len(fired) != 3 || fired[2] != 3*time.Second || c.Pending() != 0 {
		t.Errorf("fired at %v", fired)
	}
}

func TestIDsAreUnbiasedBase62(t *testing.T) {
	g := newSeedGen()
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		id := g.id("pay")
		if len(id) != len("pay_")+idBodyLen || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
		for _, r := range id[4:] {
			counts[r]++
		}
	}
	if len(counts) != 62 {
		t.Errorf("%d distinct characters, want all 62", len(counts))
	}
	for r, n := range counts { // 28000 draws: about 452 each
		if n < 300 || n > 600 {
			t.Errorf("%q drawn %d times", r, n)
		}
	}
}

func TestWhopFee(t *testing.T) {
	for total, fee := range map[int64]int64{0: 0, 10: 10, 100: 33, 499: 45, 2499: 105} {
		if got := whopFee(total); got != fee {
			t.Errorf("whopFee(%d) = %d, want %d", total, got, fee)
		}
	}
}

func TestDisplayPrice(t *testing.T) {
	for _, tt := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{499, "usd", "$4.99"}, {1000, "usd", "$10.00"}, {5, "usd", "$0.05"}, {999, "whop_usd", "$9.99"},
		{1250, "eur", "€12.50"}, {500, "jpy", "500 JPY"}, {1234, "kwd", "1.234 KWD"},
	} {
		if got := displayPrice(tt.minor, tt.currency); got != tt.want {
			t.Errorf("displayPrice(%d %s) = %q, want %q", tt.minor, tt.currency, got, tt.want)
		}
	}
}
