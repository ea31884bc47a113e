package view

import (
	"strconv"
	"strings"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
)

// Chart geometry, in viewBox units: the SVG scales to its container.
const (
	chartW, chartH                 = 640, 220
	chartLeft, chartRight          = 60, 8
	chartTop, chartBottom          = 12, 26
	chartPlotW, chartPlotH         = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartBarShare          float64 = 0.7 // of each day's slot
)

// revenueChart lays out one bar per day of the report: the money taken,
// with the refunded part drawn over it from the baseline, on a scale
// rounded up to a readable maximum so the grid labels are round numbers.
func revenueChart(rep ledger.RevenueReport) component.ChartProps {
	top := int64(0)
	for _, d := range rep.Days {
		top = max(top, d.Gross)
	}
	scale := niceCeil(top)
	p := component.ChartProps{
		Title:   "Money taken per day, " + formatDay(rep.From) + " to " + formatDay(rep.To) + ", with refunds",
		ViewBox: "0 0 " + strconv.Itoa(chartW) + " " + strconv.Itoa(chartH),
		TestID:  "revenue-chart",
		Legend:  []component.ChartLegend{{Class: "bar", Text: "Taken"}, {Class: "refund", Text: "Refunded"}},
	}
	for _, frac := range []int64{0, 1, 2} { // 0, half and the full scale
		y := chartTop + float64(chartPlotH) - float64(chartPlotH)*float64(frac)/2
		p.Grid = append(p.Grid, component.ChartTick{X: num(chartLeft), X2: num(chartW - chartRight), Y: num(y),
			Text: strings.TrimSuffix(FormatMoney(scale*frac/2, rep.Currency), ".00")})
	}
	n := max(len(rep.Days), 1)
	slot := float64(chartPlotW) / float64(n)
	barW := slot * chartBarShare
	base := float64(chartTop + chartPlotH)
	height := func(v int64) float64 { return float64(chartPlotH) * float64(v) / float64(scale) }
	for i, d := range rep.Days {
		x := chartLeft + slot*float64(i) + (slot-barW)/2
		h := height(d.Gross)
		b := component.ChartBar{X: num(x), Y: num(base - h), W: num(barW), H: num(h),
			Label:  formatDay(d.Day) + ": " + FormatMoney(d.Gross, rep.Currency) + " from " + Plural(d.Sales, "sale"),
			TestID: "bar-" + d.Day.Format("2006-01-02")}
		if d.Refunded > 0 {
			rh := height(min(d.Refunded, d.Gross))
			b.RefundY, b.RefundH = num(base-rh), num(rh)
			b.Label += ", " + FormatMoney(d.Refunded, rep.Currency) + " refunded"
		}
		p.Bars = append(p.Bars, b)
		if anchor, at := tickAnchor(i, len(rep.Days)); anchor != "" {
			p.Ticks = append(p.Ticks, component.ChartTick{X: num(x + at*barW), Y: num(chartH - 4), Text: formatDay(d.Day), Anchor: anchor})
		}
	}
	return p
}

// tickAnchor says whether day i of n is labelled (the first, the middle and
// the last are) and how: the text-anchor that keeps the outer labels inside
// the chart, and where along the bar's width it sits. With one or two days
// the last day's label wins.
func tickAnchor(i, n int) (anchor string, at float64) {
	switch i {
	case n - 1:
		return "end", 1
	case n / 2:
		return "middle", 0.5
	case 0:
		return "start", 0
	}
	return "", 0
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 100
// minor units), so the chart's top line reads "$50.00", not "$47.13".
func niceCeil(v int64) int64 {
	if v <= 100 {
		return 100
	}
	p := int64(1)
	for p <= v/10 {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// num writes a coordinate with one decimal, enough for a crisp chart.
func num[T int | float64](v T) string { return strconv.FormatFloat(float64(v), 'f', 1, 64) }

// Plural is n and word, with an "s" unless n is 1: "1 sale", "3 sales".
func Plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return FormatCount(n) + " " + word + "s"
}
