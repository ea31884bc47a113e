package billing

import (
	"sort"
	"sync"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// JobOutcome counts what this process's workers did with jobs of one kind.
// The app-wide picture (how many wait, run, retry) is in River's table, read
// at scrape time (ledger.JobCounts); these are this replica's own.
type JobOutcome struct {
	Kind string
	// Outcome is completed, retried (failed, to run again), discarded
	// (failed its last attempt), cancelled (refused for good), snoozed or
	// interrupted (handed back at shutdown).
	Outcome string
	Count   int64
}

// jobStats tallies the outcomes River reports to this process.
type jobStats struct {
	mu sync.Mutex
	n  map[[2]string]int64
}

func newJobStats() *jobStats { return &jobStats{n: map[[2]string]int64{}} }

func (s *jobStats) record(ev *river.Event) {
	if ev.Job == nil {
		return
	}
	var outcome string
	switch ev.Kind {
	case river.EventKindJobCompleted:
		outcome = "completed"
	case river.EventKindJobFailed:
		outcome = "retried"
		if ev.Job.State == rivertype.JobStateDiscarded {
			outcome = "discarded"
		}
	case river.EventKindJobCancelled:
		outcome = "cancelled"
	case river.EventKindJobSnoozed:
		outcome = "snoozed"
	case river.EventKindJobInterrupted:
		outcome = "interrupted"
	default:
		return
	}
	s.mu.Lock()
	s.n[[2]string{ev.Job.Kind, outcome}]++
	s.mu.Unlock()
}

// Outcomes returns what this process's workers did so far, by kind and
// outcome, in a stable order.
func (j *Jobs) Outcomes() []JobOutcome {
	j.stats.mu.Lock()
	out := make([]JobOutcome, 0, len(j.stats.n))
	for k, n := range j.stats.n {
		out = append(out, JobOutcome{Kind: k[0], Outcome: k[1], Count: n})
	}
	j.stats.mu.Unlock()
	sort.Slice(out, func(a, b int) bool {
		if out[a].Kind != out[b].Kind {
			return out[a].Kind < out[b].Kind
		}
		return out[a].Outcome < out[b].Outcome
	})
	return out
}
