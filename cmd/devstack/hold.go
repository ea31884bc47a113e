package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// holdCmd is `devstack hold PORT…`: .ci/run keeps make dev's ports (3000,
// 8003, 8004) taken for the whole test run, so a test that depends on one
// of them being free, or on what listens there, fails in CI instead of on
// the machine of someone running `make test` beside `make dev`. Each port
// is held on 127.0.0.1 and ::1 and answers every request with 503 and a
// sentence saying why. A port some other program already holds is just as
// taken, and is reported and left alone. It runs until ctx ends.
func holdCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("hold: name the ports to hold, e.g. devstack hold 3000 8003 8004")
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "this port is held by .ci/run: no test may depend on it being free or on what listens here",
			http.StatusServiceUnavailable)
	})}
	var held int
	for _, a := range args {
		port, err := strconv.Atoi(a)
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("hold: %q is not a port number", a)
		}
		for _, host := range []string{"127.0.0.1", "::1"} {
			addr := net.JoinHostPort(host, a)
			ln, err := net.Listen("tcp", addr)
			switch {
			case errors.Is(err, syscall.EADDRINUSE):
				fmt.Fprintf(stdout, "hold: %s is taken already, by another program: it stays taken\n", addr)
				continue
			case err != nil:
				fmt.Fprintf(stdout, "hold: %s not held: %v\n", addr, err) // e.g. no IPv6 here
				continue
			}
			held++
			go srv.Serve(ln)
		}
	}
	fmt.Fprintf(stdout, "hold: holding %d listener(s) on ports %v until stopped\n", held, args)
	<-ctx.Done()
	return srv.Close()
}
