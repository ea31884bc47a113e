package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/riverqueue/river"
)

// JobGrantExpiry takes a grant's unspent credits out at its expiry; the
// ledger schedules it with the grant.
const JobGrantExpiry = ledger.JobGrantExpiry

// grantExpiryWorker runs a grant's expiry job. The job is due at the
// grant's expiry; the database's clock has the last word (ledger
// ExpireGrant), so a job that runs a moment early waits the rest and runs
// again, without counting an attempt. Running it twice takes nothing more.
type grantExpiryWorker struct {
	river.WorkerDefaults[ledger.GrantExpiryJob]
	s *core
}

// Work expires the grant.
func (w *grantExpiryWorker) Work(ctx context.Context, job *river.Job[ledger.GrantExpiryJob]) error {
	id := job.Args.GrantID
	x, err := w.s.store.ExpireGrant(ctx, id)
	var notDue *ledger.GrantNotDueError
	switch {
	case errors.As(err, &notDue):
		return river.JobSnooze(max(time.Until(notDue.Due), 0) + 50*time.Millisecond)
	case errors.Is(err, ledger.ErrNotFound):
		return river.JobCancel(fmt.Errorf("grant expiry job %d: no grant %q", job.ID, id))
	case err != nil:
		return err
	case !x.Already:
		w.s.log.InfoContext(ctx, "grant expired", "grant_id", id, "user_id", x.Grant.UserID,
			"experience_id", x.Grant.ExperienceID, "credits_taken", x.Taken, "balance", x.Balance)
	}
	return nil
}

// Timeout bounds one expiry: a single short transaction.
func (w *grantExpiryWorker) Timeout(*river.Job[ledger.GrantExpiryJob]) time.Duration {
	return time.Minute
}
