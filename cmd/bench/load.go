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
	// CPU is the CPU time one request took, by process.
	CPU cpuPerRequest `json:"cpu_us_per_request"`
	// Rounds is each measured round on its own, in the order run: how far
	// one run's figures move while the code stays the same.
	Rounds []roundResult `json:"by_round,omitempty"`
}

// roundResult is one round of an interleaved load.
type roundResult struct {
	Throughput float64 `json:"throughput_per_s"`
	P99ms      float64 `json:"p99_ms"`
}

// cpuPerRequest is CPU time per request, in microseconds: the server's
// process (the app, or the floor's server; none for a floor that is SQL
// from this process), Postgres (every backend of the cluster) and this
// process (the load and the sandbox).
type cpuPerRequest struct {
	Server   float64 `json:"server"`
	Postgres float64 `json:"postgres"`
	Client   float64 `json:"client"`
}

// sample is what a load measured, before it is summed up: every latency, so
// samples of several rounds merge exactly.
type sample struct {
	lat     []time.Duration
	errs    int
	first   string
	elapsed time.Duration
	ticks   [3]int64 // CPU clock ticks: server, Postgres, client
	rounds  []roundResult
}

func (s *sample) add(o sample) {
	s.lat = append(s.lat, o.lat...)
	s.errs += o.errs
	if s.first == "" {
		s.first = o.first
	}
	s.elapsed += o.elapsed
	for i := range s.ticks {
		s.ticks[i] += o.ticks[i]
	}
	s.rounds = append(s.rounds, o.rounds...)
}

// addRound adds o as one round of an interleaved load, keeping its own
// throughput and p99 beside the merged figures.
func (s *sample) addRound(o sample) {
	r := o.result()
	o.rounds = []roundResult{{Throughput: r.Throughput, P99ms: r.P99ms}}
	s.add(o)
}

func (s sample) result() result {
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	r := result{Requests: len(s.lat), Errors: s.errs, Seconds: s.elapsed.Seconds(), FirstError: s.first, Rounds: s.rounds}
	if len(s.lat) > 0 {
		r.Throughput = float64(len(s.lat)) / s.elapsed.Seconds()
		r.P50ms = ms(s.lat[len(s.lat)*50/100])
		r.P99ms = ms(s.lat[min(len(s.lat)-1, len(s.lat)*99/100)])
		us := func(t int64) float64 { return float64(t) * 1e6 / clockTicks / float64(len(s.lat)) }
		r.CPU = cpuPerRequest{Server: us(s.ticks[0]), Postgres: us(s.ticks[1]), Client: us(s.ticks[2])}
	}
	return r
}

// call is one request of a load: worker is the closed loop's worker (0 in
// an open loop), i the request's number across the whole load.
type call func(ctx context.Context, worker, i int) error

// counter numbers the requests of a load across its rounds.
type counter struct{ n atomic.Int64 }

func (c *counter) next() int { return int(c.n.Add(1) - 1) }

// closedLoop runs do from conc workers for dur, each worker starting its
// next call when the last one answers, and measures every call.
func closedLoop(ctx context.Context, conc int, dur time.Duration, n *counter, do call) sample {
	var mu sync.Mutex
	var out sample
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var local sample
			local.lat = make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				err := do(ctx, w, n.next())
				local.lat = append(local.lat, time.Since(t0))
				if err != nil {
					local.errs++
					if local.first == "" {
						local.first = err.Error()
					}
				}
			}
			mu.Lock()
			out.add(local)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

// openLoop offers rate calls a second for dur, on a fixed schedule whatever
// the answers do: a slow answer delays no later call, and each latency is
// counted from when its call was due, so a queue in the server shows in
// the latencies (no coordinated omission). At most maxInFlight calls are
// open at once; a call due beyond that is counted as an error, not sent.
func openLoop(ctx context.Context, rate int, dur time.Duration, maxInFlight int, n *counter, do call) sample {
	var mu sync.Mutex
	var out sample
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxInFlight)
	interval := time.Second / time.Duration(rate)
	total := int(dur / interval)
	start := time.Now()
	for k := 0; k < total && ctx.Err() == nil; k++ {
		due := start.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		select {
		case slots <- struct{}{}:
		default:
			mu.Lock()
			out.errs++
			if out.first == "" {
				out.first = "more than the in-flight limit were waiting"
			}
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := do(ctx, 0, n.next())
			lat := time.Since(due)
			<-slots
			mu.Lock()
			out.lat = append(out.lat, lat)
			if err != nil {
				out.errs++
				if out.first == "" {
					out.first = err.Error()
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

// warmUp is how long each side runs, unmeasured, before a path's rounds:
// connections made, statements prepared, caches and the first full-page
// images after a checkpoint paid for by neither side's figures.
const warmUp = time.Second

// interleaved measures app and ref in alternating rounds (app first, then
// ref first, …), each side for dur in all, so whatever else the machine
// does weighs on both alike; with warm, each side first runs warmUp
// unmeasured. run is one round of a load.
func interleaved(rounds int, dur time.Duration, warm bool, app, ref func(time.Duration) sample) (a, r sample) {
	if warm {
		app(warmUp)
		ref(warmUp)
	}
	step := dur / time.Duration(rounds)
	for k := 0; k < rounds; k++ {
		if k%2 == 0 {
			a.addRound(app(step))
			r.addRound(ref(step))
		} else {
			r.addRound(ref(step))
			a.addRound(app(step))
		}
	}
	return a, r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
