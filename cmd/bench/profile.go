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

// profiled runs load while the app records a CPU profile of it, saved as
// <out>/<name>.pprof (read it with `go tool pprof`). Without -profile it
// just runs load.
func profiled(ctx context.Context, s *stack, o options, name string, secs int, load func() result) result {
	if !o.profile {
		return load()
	}
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
		os.MkdirAll(o.out, 0o755)
		f, err := os.Create(filepath.Join(o.out, strings.ReplaceAll(name, " ", "-")+".pprof"))
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		_, err = io.Copy(f, res.Body)
		done <- err
	}()
	r := load()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile of", name, "failed:", err)
	}
	return r
}
