package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestPickIsBelowTheEphemeralRangeAndNeverTwice(t *testing.T) {
	hi := ephemeralStart()
	if hi-lowest < 1024 {
		t.Skipf("the kernel's ephemeral range starts at %d: Pick falls back to the kernel", hi)
	}
	seen := map[int]bool{}
	for range 100 {
		port, err := Pick()
		if err != nil {
			t.Fatal(err)
		}
		if port < lowest || port >= hi {
			t.Fatalf("Pick() = %d, want %d ≤ port < %d", port, lowest, hi)
		}
		if seen[port] {
			t.Fatalf("Pick() handed out %d twice", port)
		}
		seen[port] = true
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("port %d from Pick cannot be bound: %v", port, err)
		}
		ln.Close()
	}
}

// A port something listens on, even on 127.0.0.1 alone, is passed over.
func TestPickPassesOverAPortInUse(t *testing.T) {
	hi := ephemeralStart()
	if hi-lowest < 1024 {
		t.Skipf("the kernel's ephemeral range starts at %d", hi)
	}
	mu.Lock()
	handed = map[int]bool{} // what earlier tests (or -count) were handed
	mu.Unlock()
	busy, busyLn := listenInRange(t, hi, "127.0.0.1")
	defer busyLn.Close()
	free, freeLn := listenInRange(t, hi, "127.0.0.1")
	freeLn.Close()

	draws := []int{busy - lowest, free - lowest}
	next := func(n int) int {
		if n != hi-lowest {
			t.Fatalf("drew from %d ports, want %d", n, hi-lowest)
		}
		d := draws[0]
		draws = draws[1:]
		return d
	}
	got, err := pick(hi, next)
	if err != nil {
		t.Fatal(err)
	}
	if got != free {
		t.Fatalf("pick = %d, want %d (passing over %d, which is listened on)", got, free, busy)
	}
	if len(draws) != 0 {
		t.Fatalf("%d draws left over", len(draws))
	}
	// And a port already handed out is not handed out again, even when free.
	draws = []int{free - lowest, busy - lowest}
	busyLn.Close()
	if got, err = pick(hi, next); err != nil || got != busy {
		t.Fatalf("second pick = %d, %v; want %d (%d was handed out already)", got, err, busy, free)
	}
}

// listenInRange listens on host at some port of Pick's range.
func listenInRange(t *testing.T, hi int, host string) (int, net.Listener) {
	t.Helper()
	for port := lowest + 1; port < hi; port += 7 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return port, ln
		}
	}
	t.Fatal("no port to listen on in the range")
	return 0, nil
}
