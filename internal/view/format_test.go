package view

import (
	"testing"
	"time"
)

// TestFormatWhen: a moment in UTC whatever its zone, the day without a
// leading zero; nothing for the zero time.
func TestFormatWhen(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, ""},
		{time.Date(2026, 11, 22, 10, 41, 59, 0, time.UTC), "Nov 22, 10:41 UTC"},
		{time.Date(2026, 3, 1, 0, 30, 0, 0, paris), "Feb 28, 23:30 UTC"},
		{time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), "Dec 31, 23:59 UTC"},
	} {
		if got := FormatWhen(tt.t); got != tt.want {
			t.Errorf("FormatWhen(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
