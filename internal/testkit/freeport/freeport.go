// Package freeport picks a TCP port for a process that must be told its
// port before it binds it: a replica of `creditkit serve`, a Postgres
// cluster, PgBouncer, the sandbox's command.
//
// Asking the kernel (listening on port 0 and closing) is not enough for
// that. The kernel takes such a port from its ephemeral range, the same
// range every outgoing connection and every other `:0` listener (each
// httptest server) takes its port from, and a test that opens thousands of
// connections to Postgres between the pick and the child's bind can take
// the port first: the child then dies with "bind: address already in use"
// (a replica in the fault suite's CI run did, once). Pick
// chooses at random below that range, where only listeners bind, and
// checks that nothing listens there. Another process picking in this range
// could still choose the same port between this pick and the child's bind
// (one chance in about 16,000 a pick, for the few ms to seconds until the
// bind); within one process Pick never hands out a port twice. The fault
// suite's replicas, which start in that window most often, move to a new
// port when their bind fails.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// lowest is where Pick's range starts: above the ports services on a
// developer's machine usually take (Postgres 5432, make dev's 8003 and
// 8004, Redis 6379 and the like).
const lowest = 16384

// The ports this process handed out: state of the process, not of a
// caller, since two callers in one process must never share a port.
var (
	mu     sync.Mutex
	handed = map[int]bool{}
)

// Pick returns a TCP port that nothing listens on, on any address, and that
// outgoing connections do not use.
func Pick() (int, error) {
	hi := ephemeralStart()
	if hi-lowest < 1024 {
		// An unusual kernel setting leaves no room below its range: fall
		// back to the kernel's own choice, as good as it gets there.
		return kernelPick()
	}
	return pick(hi, rand.IntN)
}

// Fataler is what For needs of a test (testing.TB has it). Taking this and
// not testing.TB keeps the testing package out of the binaries that use
// Pick (cmd/bench).
type Fataler interface {
	Helper()
	Fatal(args ...any)
}

// For is Pick for a test, which it fails when no port can be had.
func For(t Fataler) int {
	t.Helper()
	port, err := Pick()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// pick is Pick with its upper bound and its random numbers given.
func pick(hi int, intN func(int) int) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	var last error
	for range 200 {
		port := lowest + intN(hi-lowest)
		if handed[port] {
			continue
		}
		// ":port" is every address, IPv4 and IPv6: a listener on any one
		// of them (127.0.0.1 only, say) makes this fail.
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			last = err
			continue
		}
		ln.Close()
		handed[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("freeport: no free port in %d–%d after 200 tries: %w", lowest, hi-1, last)
}

// ephemeralStart is the first port of the kernel's ephemeral range, 32768
// (Linux's default) where the kernel does not say.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 || n > 65535 {
		return 32768
	}
	return n
}

func kernelPick() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("freeport: not a TCP address")
	}
	return addr.Port, nil
}
