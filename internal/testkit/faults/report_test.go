//go:build faults

package faults

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// report is one scenario's summary block: what was injected, what was
// counted. It is printed whether the scenario passes or fails, so a failure
// comes with the numbers that explain it.
type report struct {
	title string
	start time.Time
	rows  [][2]string
}

func newReport(title string) *report { return &report{title: title, start: time.Now()} }

func (r *report) add(key, format string, args ...any) {
	r.rows = append(r.rows, [2]string{key, fmt.Sprintf(format, args...)})
}

func (r *report) print() {
	width := 0
	for _, row := range r.rows {
		width = max(width, len(row[0]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n┌─ %s (%.1f s)\n", r.title, time.Since(r.start).Seconds())
	for _, row := range r.rows {
		fmt.Fprintf(&b, "│ %-*s  %s\n", width, row[0], row[1])
	}
	b.WriteString("└─\n")
	fmt.Print(b.String())
}

// thousands formats n as the experience page does (1,234).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
