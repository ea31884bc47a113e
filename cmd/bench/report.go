package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one path measured against its reference.
type row struct {
	Path        string  `json:"path"`
	Load        string  `json:"load"`
	App         result  `json:"app"`
	Ref         result  `json:"reference"`
	RefName     string  `json:"reference_name"`
	Ratio       float64 `json:"ratio"`
	Target      float64 `json:"ratio_target"`
	P99TargetMS float64 `json:"p99_target_ms,omitempty"`
	NoErrors    bool    `json:"no_errors_required"`
	Overdrafts  *int64  `json:"overdrafts,omitempty"`
	Met         bool    `json:"target_met"`
}

type sweepPoint struct {
	Concurrency int    `json:"concurrency"`
	App         result `json:"app"`
	Ref         result `json:"reference"`
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

type report struct {
	Started time.Time    `json:"started"`
	Machine string       `json:"machine"`
	Rows    []row        `json:"rows"`
	Memory  memory       `json:"memory"`
	Startup startup      `json:"startup"`
	Tokens  tokenCache   `json:"user_token_cache"`
	Sweep   []sweepPoint `json:"page_latency_by_concurrency"`
	// HTTPFloor is a no-op handler taking the same POSTs: context for the
	// webhook rows, not a target.
	HTTPFloor result `json:"http_floor_noop_post"`
}

func (r *report) add(x row) {
	if x.Ref.Throughput > 0 {
		x.Ratio = x.App.Throughput / x.Ref.Throughput
	}
	x.Met = x.Ratio >= x.Target && (!x.NoErrors || x.App.Errors == 0) &&
		(x.P99TargetMS == 0 || x.App.P99ms <= x.P99TargetMS) && (x.Overdrafts == nil || *x.Overdrafts == 0)
	r.Rows = append(r.Rows, x)
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s, %d CPUs, %s, %s", host, runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, runtime.Version())
}

// write prints the table and saves the JSON and the latency plot.
func (r *report) write(dir string, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\tthroughput/s\tp50 ms\tp99 ms\terrors\treference/s\tratio\ttarget\tmet")
	for _, x := range r.Rows {
		target := fmt.Sprintf("≥ %.1f", x.Target)
		if x.P99TargetMS > 0 {
			target += fmt.Sprintf(", p99 ≤ %.0f ms", x.P99TargetMS)
		}
		if x.Overdrafts != nil {
			target += fmt.Sprintf(", overdrafts %d", *x.Overdrafts)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%d\t%.0f\t%.2f\t%s\t%s\n",
			x.Path, x.App.Throughput, x.App.P50ms, x.App.P99ms, x.App.Errors, x.Ref.Throughput, x.Ratio, target, yes(x.Met))
	}
	fmt.Fprintf(tw, "memory (peak RSS during page load)\t%.1f MiB\t\t\t\t\t\t≤ %.0f MiB\t%s\n",
		r.Memory.PeakRSSMiB, r.Memory.TargetMiB, yes(r.Memory.PeakRSSMiB <= r.Memory.TargetMiB))
	fmt.Fprintf(tw, "start-up (serve → /readyz, median of 5)\t%.0f ms\t\t\t\t\t\t≤ %.0f ms\t%s\n",
		r.Startup.MedianMS, r.Startup.TargetMS, yes(r.Startup.MedianMS <= r.Startup.TargetMS))
	tw.Flush()
	fmt.Fprintf(out, "\nuser-token cache during the page load: %d requests, %d ECDSA verifications, %d cache hits\n",
		r.Tokens.Requests, r.Tokens.Verifications, r.Tokens.CacheHits)
	if r.HTTPFloor.Throughput > 0 {
		for _, x := range r.Rows {
			if x.Path == "webhook duplicates" {
				fmt.Fprintf(out, "context: a no-op HTTP POST of the same body, 32 concurrent: %.0f/s (p50 %.2f ms); duplicates reach %.2f of it\n",
					r.HTTPFloor.Throughput, r.HTTPFloor.P50ms, x.App.Throughput/r.HTTPFloor.Throughput)
			}
		}
	}
	for _, x := range r.Rows {
		if x.App.FirstError != "" {
			fmt.Fprintf(out, "first app error on %s: %s\n", x.Path, x.App.FirstError)
		}
		if x.Ref.FirstError != "" {
			fmt.Fprintf(out, "first reference error on %s: %s\n", x.Path, x.Ref.FirstError)
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
	return nil
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// svg plots page p50/p99 latency against concurrency, app and reference.
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
		{"reference p50", "#3a5bd9", "", func(p sweepPoint) float64 { return p.Ref.P50ms }},
		{"reference p99", "#3a5bd9", "6 4", func(p sweepPoint) float64 { return p.Ref.P99ms }},
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
