// Package utcday keeps a test that asserts what one UTC day holds from
// straddling a UTC midnight.
package utcday

import (
	"testing"
	"time"
)

// ClearOfMidnight waits, when the next UTC midnight is less than d away,
// until it has passed: a test that asserts what one UTC day holds (the
// dashboard's day rows, an export's default period, a report over today)
// must not have its writes, or its reads, split across two days. It costs
// at most d, and only to a run started just before midnight.
func ClearOfMidnight(t testing.TB, d time.Duration) {
	t.Helper()
	now := time.Now().UTC()
	y, m, day := now.Date()
	if left := time.Date(y, m, day+1, 0, 0, 0, 0, time.UTC).Sub(now); left < d {
		t.Logf("waiting %s for UTC midnight to pass", left.Round(time.Millisecond))
		time.Sleep(left + 100*time.Millisecond)
	}
}
