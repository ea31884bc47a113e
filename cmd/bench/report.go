package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one path measured against its floor.
type row struct {
	Path    string `json:"path"`
	Load    string `json:"load"`
	App     result `json:"app"`
	Ref     result `json:"floor"`
	RefName string `json:"floor_name"`
	// Ratio is the app's throughput over the floor's, unrounded; the table
	// prints it truncated, so a ratio printed at the target meets it.
	Ratio      float64 `json:"ratio"`
	Target     float64 `json:"ratio_target"`
	NoErrors   bool    `json:"no_errors_required"`
	Overdrafts *int64  `json:"overdrafts,omitempty"`
	Met        bool    `json:"target_met"`
	// ReferenceFor marks a row that measures no app: a bare server taking
	// the named app row's requests, against that path's floor, to show what
	// the floor leaves for the app's code. It has no target.
	ReferenceFor string `json:"reference_for,omitempty"`
	Quiet        quiet  `json:"machine"`
}

type sweepPoint struct {
	Concurrency int    `json:"concurrency"`
	App         result `json:"app"`
	Ref         result `json:"floor"`
}

// openPoint is the page at one offered rate, open loop.
type openPoint struct {
	Offered     int     `json:"offered_per_s"`
	App         result  `json:"app"`
	Ref         result  `json:"floor"`
	P99TargetMS float64 `json:"p99_target_ms,omitempty"`
	Met         bool    `json:"target_met,omitempty"`
	Quiet       quiet   `json:"machine"`
}

type memory struct {
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	TargetMiB  float64 `json:"target_mib"`
}

type startup struct {
	MedianMS float64 `json:"median_ms"`
	MinMS    float64 `json:"min_ms"`
	MaxMS    float64 `json:"max_ms"`
	TargetMS float64 `json:"target_ms"`
}

type tokenCache struct {
	Requests      int   `json:"page_requests"`
	Verifications int64 `json:"ecdsa_verifications"`
	CacheHits     int64 `json:"cache_hits"`
}

// pageData is what the page's database held when it was measured.
type pageData struct {
	Members        int `json:"members"`
	HeavyMembers   int `json:"heavy_members"`
	HeavyPurchases int `json:"heavy_member_purchases"`
	Purchases      int `json:"seeded_purchases"`
	AllPurchases   int `json:"all_purchases"`
	DistinctTimes  int `json:"distinct_created_at"`
}

type report struct {
	Started        time.Time    `json:"started"`
	Machine        string       `json:"machine"`
	LoadAtStart    [3]float64   `json:"load_average_at_start"`
	LoadAtEnd      [3]float64   `json:"load_average_at_end"`
	Rounds         int          `json:"rounds"`
	SecondsPerSide float64      `json:"seconds_per_side"`
	Rows           []row        `json:"rows"`
	Open           []openPoint  `json:"page_open_loop"`
	Sweep          []sweepPoint `json:"page_latency_by_concurrency"`
	Memory         memory       `json:"memory"`
	Startup        startup      `json:"startup"`
	Tokens         tokenCache   `json:"user_token_cache"`
	PageData       pageData     `json:"page_data"`
	Profiles       []string     `json:"cpu_profiles,omitempty"`
}

func (r *report) add(x row) {
	if x.Ref.Throughput > 0 {
		x.Ratio = x.App.Throughput / x.Ref.Throughput
	}
	x.Met = x.ReferenceFor == "" && x.Ratio >= x.Target && (!x.NoErrors || x.App.Errors == 0) && (x.Overdrafts == nil || *x.Overdrafts == 0)
	r.Rows = append(r.Rows, x)
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s, %d CPUs, %s, %s", host, runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, runtime.Version())
}

// truncated is v cut (not rounded) to three decimals.
func truncated(v float64) string { return fmt.Sprintf("%.3f", math.Floor(v*1000)/1000) }

func (q quiet) String() string {
	return fmt.Sprintf("%.2f→%.2f\t%.0f %%", q.LoadStart, q.LoadEnd, 100*q.OthersCPU)
}

// write prints the table and saves the JSON and the latency plot.
func (r *report) write(dir string, out io.Writer) error {
	fmt.Fprintf(out, "\n%s; load average %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end\n",
		r.Machine, r.LoadAtStart[0], r.LoadAtStart[1], r.LoadAtStart[2], r.LoadAtEnd[0], r.LoadAtEnd[1], r.LoadAtEnd[2])
	fmt.Fprintf(out, "app and floor alternate in %d rounds per path, %.0f s a side; \"load\" is the 1-minute load average as the row\n"+
		"started and ended, \"others\" the share of all CPUs that processes other than the benchmark's took meanwhile\n\n",
		r.Rounds, r.SecondsPerSide)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\tthroughput/s\tp50 ms\tp99 ms\terrors\tfloor/s\tratio\ttarget\tmet\tload\tothers")
	for _, x := range r.Rows {
		target := fmt.Sprintf("≥ %.1f", x.Target)
		if x.Overdrafts != nil {
			target += fmt.Sprintf(", overdrafts %d", *x.Overdrafts)
		}
		met := yes(x.Met)
		if x.ReferenceFor != "" {
			target, met = "(reference)", "–"
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%d\t%.0f\t%s\t%s\t%s\t%s\n",
			x.Path, x.App.Throughput, x.App.P50ms, x.App.P99ms, x.App.Errors, x.Ref.Throughput, truncated(x.Ratio), target, met, x.Quiet)
	}
	if r.Memory.TargetMiB > 0 {
		fmt.Fprintf(tw, "memory (peak RSS during the page load)\t%.1f MiB\t\t\t\t\t\t≤ %.0f MiB\t%s\n",
			r.Memory.PeakRSSMiB, r.Memory.TargetMiB, yes(r.Memory.PeakRSSMiB <= r.Memory.TargetMiB))
	}
	if r.Startup.TargetMS > 0 {
		fmt.Fprintf(tw, "start-up (exec → 200 from /readyz, median of 5)\t%.0f ms\t\t\t\t\t\t≤ %.0f ms\t%s\n",
			r.Startup.MedianMS, r.Startup.TargetMS, yes(r.Startup.MedianMS <= r.Startup.TargetMS))
	}
	tw.Flush()
	r.writeReferences(out)
	r.writeRounds(out)

	fmt.Fprintf(out, "\nCPU time per request, µs (from /proc: the server's process, every Postgres process, this one):\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\tapp server\tapp Postgres\tapp client\tapp total\tfloor server\tfloor Postgres\tfloor client\tfloor total")
	for _, x := range r.Rows {
		a, f := x.App.CPU, x.Ref.CPU
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", x.Path, a.Server, a.Postgres, a.Client,
			a.Server+a.Postgres+a.Client, f.Server, f.Postgres, f.Client, f.Server+f.Postgres+f.Client)
	}
	tw.Flush()

	fmt.Fprintf(out, "\nexperience page, open loop (requests offered on a fixed schedule; latency from when each was due):\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "offered/s\tapp p50 ms\tapp p99 ms\tapp errors\tfloor p50 ms\tfloor p99 ms\tfloor errors\ttarget\tmet\tload\tothers")
	for _, p := range r.Open {
		target, met := "", ""
		if p.P99TargetMS > 0 {
			target, met = fmt.Sprintf("app p99 ≤ %.0f ms", p.P99TargetMS), yes(p.Met)
		}
		fmt.Fprintf(tw, "%d\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%d\t%s\t%s\t%s\n", p.Offered, p.App.P50ms, p.App.P99ms, p.App.Errors,
			p.Ref.P50ms, p.Ref.P99ms, p.Ref.Errors, target, met, p.Quiet)
	}
	tw.Flush()
	for _, p := range r.Open {
		if p.P99TargetMS > 0 && len(p.App.Rounds) > 1 {
			fmt.Fprintf(out, "p99 by round at %d/s offered, ms: app %s; floor %s\n", p.Offered, p99s(p.App.Rounds), p99s(p.Ref.Rounds))
		}
	}

	fmt.Fprintf(out, "\npage data: %d members (%d with %d purchases each), %d purchases in all, %d distinct created_at; ANALYZEd\n",
		r.PageData.Members, r.PageData.HeavyMembers, r.PageData.HeavyPurchases, r.PageData.AllPurchases, r.PageData.DistinctTimes)
	fmt.Fprintf(out, "user-token cache during the page load: %d requests, %d ECDSA verifications, %d cache hits\n",
		r.Tokens.Requests, r.Tokens.Verifications, r.Tokens.CacheHits)
	for _, x := range r.Rows {
		side := "app"
		if x.ReferenceFor != "" {
			side = "reference server"
		}
		if x.App.FirstError != "" {
			fmt.Fprintf(out, "first %s error on %s: %s\n", side, x.Path, x.App.FirstError)
		}
		if x.Ref.FirstError != "" {
			fmt.Fprintf(out, "first floor error on %s: %s\n", x.Path, x.Ref.FirstError)
		}
	}
	for _, p := range r.Open {
		if p.App.FirstError != "" {
			fmt.Fprintf(out, "first app error at %d/s offered: %s\n", p.Offered, p.App.FirstError)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	stamp := r.Started.Format("20060102-150405")
	jsonPath := filepath.Join(dir, "bench-"+stamp+".json")
	svgPath := filepath.Join(dir, "page-latency-"+stamp+".svg")
	if err := os.WriteFile(jsonPath, b, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(svgPath, []byte(r.svg()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nwrote %s and %s\n", jsonPath, svgPath)
	if len(r.Profiles) > 0 {
		fmt.Fprintf(out, "CPU profiles of the app: %s\n  (go tool pprof -top %s/bin/creditkit <profile>)\n", strings.Join(r.Profiles, ", "), workDir)
	}
	return nil
}

// writeReferences explains each reference row under the table, with the
// app's ratio over the reference's: the reference is a bare server taking
// the app's requests, so that quotient is what the app's own code costs
// beyond it. Each ratio is against the floor in its own rounds, which
// keeps the machine's drift between the two runs out of it.
func (r *report) writeReferences(out io.Writer) {
	for _, x := range r.Rows {
		if x.ReferenceFor == "" {
			continue
		}
		fmt.Fprintf(out, "%s (reference): %s, against the floor in rounds of its own\n", x.Path, x.Load)
		for _, app := range r.Rows {
			if app.Path == x.ReferenceFor && x.Ratio > 0 {
				fmt.Fprintf(out, "  %s's ratio over this one's: %s\n", app.Path, truncated(app.Ratio/x.Ratio))
			}
		}
	}
}

// writeRounds prints each row's ratio round by round (the app's round over
// the floor's beside it), so one run shows how far its own figures move.
func (r *report) writeRounds(out io.Writer) {
	if len(r.Rows) == 0 || len(r.Rows[0].App.Rounds) < 2 {
		return
	}
	fmt.Fprintf(out, "\neach round on its own, the app's throughput over the floor's in the round beside it:\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\tratio by round\tlowest\thighest")
	for _, x := range r.Rows {
		// A round whose floor answered nothing has no ratio: "–" keeps the
		// others under their round.
		shown := make([]string, len(x.App.Rounds))
		var ratios []float64
		for i, a := range x.App.Rounds {
			shown[i] = "–"
			if i < len(x.Ref.Rounds) && x.Ref.Rounds[i].Throughput > 0 {
				v := a.Throughput / x.Ref.Rounds[i].Throughput
				shown[i] = truncated(v)
				ratios = append(ratios, v)
			}
		}
		if len(ratios) == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Path, strings.Join(shown, " "), truncated(slices.Min(ratios)), truncated(slices.Max(ratios)))
	}
	tw.Flush()
}

// p99s prints each round's p99, in the order run.
func p99s(rounds []roundResult) string {
	parts := make([]string, len(rounds))
	for i, x := range rounds {
		parts[i] = fmt.Sprintf("%.2f", x.P99ms)
	}
	return strings.Join(parts, " ")
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// svg plots page p50/p99 latency against concurrency, app and floor.
func (r *report) svg() string {
	const w, h, left, bottom, top, right = 640.0, 360.0, 60.0, 40.0, 30.0, 150.0
	maxY := 1.0
	for _, p := range r.Sweep {
		maxY = max(maxY, p.App.P99ms, p.Ref.P99ms)
	}
	x := func(i int) float64 { return left + float64(i)*(w-left-right)/float64(max(1, len(r.Sweep)-1)) }
	y := func(v float64) float64 { return h - bottom - v/maxY*(h-bottom-top) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%.0f" y="18" font-weight="bold">Experience page latency by concurrency</text>`, left)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#999"/>`, left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#999"/>`, left, top, left, h-bottom)
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%.1f ms</text>`, left-6, y(v)+4, v)
	}
	for i, p := range r.Sweep {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%d</text>`, x(i), h-bottom+16, p.Concurrency)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">concurrent clients</text>`, (left+w-right)/2, h-6)
	series := []struct {
		name, color, dash string
		v                 func(sweepPoint) float64
	}{
		{"app p50", "#fa4616", "", func(p sweepPoint) float64 { return p.App.P50ms }},
		{"app p99", "#fa4616", "6 4", func(p sweepPoint) float64 { return p.App.P99ms }},
		{"floor p50", "#3a5bd9", "", func(p sweepPoint) float64 { return p.Ref.P50ms }},
		{"floor p99", "#3a5bd9", "6 4", func(p sweepPoint) float64 { return p.Ref.P99ms }},
	}
	for k, s := range series {
		var pts []string
		for i, p := range r.Sweep {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(s.v(p))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>`, s.color, s.dash, strings.Join(pts, " "))
		ly := top + 20 + float64(k)*20
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`, w-right+12, ly, w-right+36, ly, s.color, s.dash)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s</text>`, w-right+42, ly+4, s.name)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
