package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// profiled runs load while the app records a CPU profile for about dur
// (the load's length: the reference's rounds, in which the app is idle,
// add nothing to it), saved as <out>/<name>.pprof beside the results; read
// it with `go tool pprof -top .data/bench/bin/creditkit <file>`. Without
// -profile it just runs load.
func profiled(ctx context.Context, s *stack, o options, name string, dur time.Duration, load func()) {
	if !o.profile {
		load()
		return
	}
	secs := max(1, int((dur+time.Second/2)/time.Second))
	path := filepath.Join(o.out, strings.ReplaceAll(name, " ", "-")+".pprof")
	done := make(chan error, 1)
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprof, secs)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := (&http.Client{Timeout: time.Duration(secs+30) * time.Second}).Do(req)
		if err != nil {
			done <- err
			return
		}
		defer res.Body.Close()
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			done <- err
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		_, err = io.Copy(f, res.Body)
		done <- err
	}()
	load()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile of", name, "failed:", err)
		return
	}
	s.profiles = append(s.profiles, path)
}
