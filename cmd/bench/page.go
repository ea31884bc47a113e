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

// benchPage measures the member's experience page against a bare handler
// running the same queries, at 64 concurrent distinct users, and sweeps
// concurrency for the latency plot.
func benchPage(ctx context.Context, s *stack, o options, rep *report, httpc *http.Client, exp string, users []string, log io.Writer) error {
	fmt.Fprintln(log, "experience page: warming up")
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
	refAddr, stopRef, err := startRefServer(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer stopRef()
	appCall := func(ctx context.Context, w, _ int) error {
		return getPage(ctx, httpc, s.appURL(), exp, tokens[w%len(tokens)])
	}
	refCall := func(ctx context.Context, w, _ int) error {
		return getOK(ctx, httpc, "http://"+refAddr+"/ref/"+exp+"/"+users[w%len(users)], `"membership_changed"`)
	}

	fmt.Fprintln(log, "experience page: sweeping concurrency")
	step := min(o.duration/2, 3*time.Second)
	for _, c := range []int{1, 4, 16, 64} {
		a := closedLoop(ctx, c, step, 0, appCall)
		r := closedLoop(ctx, c, step, 0, refCall)
		rep.Sweep = append(rep.Sweep, sweepPoint{Concurrency: c, App: a, Ref: r})
	}

	fmt.Fprintln(log, "experience page: measuring")
	before := scrapeTokenStats(ctx, httpc, s.appURL())
	var peak int64
	stopSampling := sampleRSS(s.app.Process.Pid, &peak)
	app := profiled(ctx, s, o, "experience page", int(o.duration/time.Second), func() result {
		return closedLoop(ctx, 64, o.duration, 0, appCall)
	})
	stopSampling()
	after := scrapeTokenStats(ctx, httpc, s.appURL())
	ref := closedLoop(ctx, 64, o.duration, 0, refCall)
	rep.add(row{Path: "experience page", Load: "authenticated GETs, 64 concurrent distinct users", App: app, Ref: ref,
		RefName: "bare chi handler, same queries, JSON", Target: 0.7, P99TargetMS: 25, NoErrors: true})
	rep.Memory = memory{PeakRSSMiB: float64(peak) / 1024, TargetMiB: 100}
	rep.Tokens = tokenCache{
		Requests:      app.Requests,
		Verifications: after.Verifications - before.Verifications,
		CacheHits:     after.CacheHits - before.CacheHits,
	}
	return nil
}

func getPage(ctx context.Context, c *http.Client, base, exp, token string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/experiences/"+exp, nil)
	req.Header.Set(whop.HeaderUserToken, token)
	return doOK(c, req, `data-testid="balance"`)
}

func postOK(ctx context.Context, c *http.Client, url string, body []byte) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return doOK(c, req, `"ok"`)
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
