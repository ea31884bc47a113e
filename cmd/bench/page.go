package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
)

// openLoopRates are the offered rates of the page's open-loop run.
var openLoopRates = []int{500, 1000, 2000}

// pageP99TargetMS is the page's p99 target at 1,000 requests a second offered.
const pageP99TargetMS = 10

// benchPage measures the member's experience page against the bare
// handler running the same queries: a closed-loop sweep of concurrency for
// the latency plot, the measured row at 64 concurrent distinct members, and
// an open-loop run at fixed offered rates.
func benchPage(ctx context.Context, s *stack, o options, rep *report, httpc *http.Client, exp string, users []string) error {
	logf(o, "experience page: warming up")
	tokens := make([]string, len(users))
	for i, u := range users {
		t, err := s.sim.Token(u)
		if err != nil {
			return err
		}
		tokens[i] = t
		if err := getPage(ctx, httpc, s.appURL(), exp, t); err != nil {
			return err
		}
	}
	var n counter
	appCall := func(ctx context.Context, w, i int) error {
		return getPage(ctx, httpc, s.appURL(), exp, tokens[(w+i)%len(tokens)])
	}
	refCall := func(ctx context.Context, w, i int) error {
		return getOK(ctx, httpc, s.ref.url+"/page/"+exp+"/"+users[(w+i)%len(users)], `"Balance"`)
	}
	closed := func(conc int, do call) func(time.Duration) sample {
		return func(d time.Duration) sample { return closedLoop(ctx, conc, d, &n, do) }
	}

	logf(o, "experience page: sweeping concurrency")
	for _, c := range []int{1, 4, 16, 64} {
		a, r := interleaved(2, min(o.duration/2, 4*time.Second), false, s.metered(s.appPID, closed(c, appCall)), s.metered(s.refPID, closed(c, refCall)))
		rep.Sweep = append(rep.Sweep, sweepPoint{Concurrency: c, App: a.result(), Ref: r.result()})
	}

	logf(o, "experience page: measuring")
	before := scrapeTokenStats(ctx, httpc, s.appURL())
	var peak int64
	stopSampling := sampleRSS(s.app.Process.Pid, &peak)
	m := s.meter()
	var a, r sample
	profiled(ctx, s, o, "experience page", 2*(o.duration+warmUp), func() {
		a, r = interleaved(o.rounds, o.duration, true, s.metered(s.appPID, closed(64, appCall)), s.metered(s.refPID, closed(64, refCall)))
	})
	q := s.quietSince(m)
	stopSampling()
	after := scrapeTokenStats(ctx, httpc, s.appURL())
	rep.add(row{Path: "experience page", Load: "authenticated GETs, 64 concurrent distinct members", App: a.result(), Ref: r.result(),
		RefName: "bare chi handler, the same queries, JSON", Target: 0.8, NoErrors: true, Quiet: q})
	rep.Memory = memory{PeakRSSMiB: float64(peak) / 1024, TargetMiB: 64}
	rep.Tokens = tokenCache{
		Requests:      a.result().Requests,
		Verifications: after.Verifications - before.Verifications,
		CacheHits:     after.CacheHits - before.CacheHits,
	}

	logf(o, "experience page: open loop at fixed offered rates")
	step := min(o.duration/2, 5*time.Second)
	for _, rate := range openLoopRates {
		open := func(do call) func(time.Duration) sample {
			return func(d time.Duration) sample { return openLoop(ctx, rate, d, 1024, &n, do) }
		}
		m := s.meter()
		a, r := interleaved(2, 2*step, false, s.metered(s.appPID, open(appCall)), s.metered(s.refPID, open(refCall)))
		ar := a.result()
		p := openPoint{Offered: rate, App: ar, Ref: r.result(), Quiet: s.quietSince(m)}
		if rate == 1000 {
			p.P99TargetMS = pageP99TargetMS
			p.Met = ar.Errors == 0 && ar.P99ms <= pageP99TargetMS
		}
		rep.Open = append(rep.Open, p)
	}
	return nil
}

func getPage(ctx context.Context, c *http.Client, base, exp, token string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/experiences/"+exp, nil)
	req.Header.Set(whop.HeaderUserToken, token)
	return doOK(c, req, `data-testid="balance"`)
}

func getOK(ctx context.Context, c *http.Client, url, want string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	return doOK(c, req, want)
}

func doOK(c *http.Client, req *http.Request, want string) error {
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(want)) {
		return fmt.Errorf("%s: %d %.200s", req.URL.Path, res.StatusCode, b)
	}
	return nil
}

// sampleRSS records the process's largest resident set every 50 ms until
// the returned function is called.
func sampleRSS(pid int, peak *int64) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if cur, _ := rssKiB(pid); cur > *peak {
				*peak = cur
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

type tokenStats struct{ Verifications, CacheHits int64 }

func scrapeTokenStats(ctx context.Context, c *http.Client, base string) tokenStats {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	res, err := c.Do(req)
	if err != nil {
		return tokenStats{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var st tokenStats
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "creditkit_user_token_verifications_total":
			st.Verifications = int64(v)
		case "creditkit_user_token_cache_hits_total":
			st.CacheHits = int64(v)
		}
	}
	return st
}
