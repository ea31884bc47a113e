package view

import (
	"fmt"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// TestRevenueChartLabelsFirstMiddleAndLastDay: the labels under the bars
// name the first, middle and last day, the outer two anchored to stay
// inside the chart; with one or two days the last day's label wins.
func TestRevenueChartLabelsFirstMiddleAndLastDay(t *testing.T) {
	day0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		days int
		want string // "day anchor x" per tick, in order: x is the bar's left edge, middle or right edge
	}{
		{1, "[Nov 1 end 546.2]"},
		{2, "[Nov 1 start 102.9 Nov 2 end 589.1]"},
		{3, "[Nov 1 start 88.6 Nov 2 middle 346.0 Nov 3 end 603.4]"},
		{30, "[Nov 1 start 62.9 Nov 16 middle 355.5 Nov 30 end 629.1]"},
	} {
		rep := ledger.RevenueReport{Currency: "usd", From: day0, To: day0.AddDate(0, 0, tc.days-1)}
		for i := range tc.days {
			rep.Days = append(rep.Days, ledger.RevenueDay{Day: day0.AddDate(0, 0, i)})
		}
		var got []string
		for _, tk := range revenueChart(rep).Ticks {
			if tk.Y != "216.0" {
				t.Errorf("%d days: tick %q at y %s, want 216.0", tc.days, tk.Text, tk.Y)
			}
			got = append(got, tk.Text+" "+tk.Anchor+" "+tk.X)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%d days: ticks = %v, want %s", tc.days, got, tc.want)
		}
	}
}
