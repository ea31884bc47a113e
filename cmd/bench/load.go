package main

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// result is one measured load.
type result struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	FirstError string  `json:"first_error,omitempty"`
}

// closedLoop runs do from conc workers until dur has passed or max calls
// were made (max 0: no limit), each worker starting its next call when the
// last one answers, and measures every call.
func closedLoop(ctx context.Context, conc int, dur time.Duration, max int, do func(ctx context.Context, worker, i int) error) result {
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var first string
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			localErrs := 0
			var localFirst string
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if max > 0 && i >= max {
					break
				}
				t0 := time.Now()
				err := do(ctx, w, i)
				local = append(local, time.Since(t0))
				if err != nil {
					localErrs++
					if localFirst == "" {
						localFirst = err.Error()
					}
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += localErrs
			if first == "" {
				first = localFirst
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{Requests: len(lat), Errors: errs, Seconds: elapsed.Seconds(), FirstError: first}
	if len(lat) > 0 {
		r.Throughput = float64(len(lat)) / elapsed.Seconds()
		r.P50ms = ms(lat[len(lat)*50/100])
		r.P99ms = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
