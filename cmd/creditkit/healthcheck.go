package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// healthcheckCmd is the image's HEALTHCHECK: the runtime image has no shell
// or curl, so the binary asks the server on this container's $PORT for
// /readyz (database reachable, schema current) and exits 0 only on a 200.
// It reads PORT alone, so a probe never fails on the rest of the
// configuration.
func healthcheckCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("path", "/readyz", "the route to ask: /readyz (ready) or /healthz (alive)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return exitError{err}
	}
	port := strings.TrimSpace(getenv("PORT"))
	if port == "" {
		port = "3000"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		fmt.Fprintf(stderr, "healthcheck: PORT %q is not a port\n", port)
		return exitError{errors.New("bad PORT")}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://127.0.0.1:" + port + *path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return exitError{err}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %s: %v\n", url, err)
		return exitError{err}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s answered %d: %s\n", url, res.StatusCode, strings.TrimSpace(string(body)))
		return exitError{fmt.Errorf("status %d", res.StatusCode)}
	}
	fmt.Fprintf(stdout, "healthcheck: %s ok\n", url)
	return nil
}
