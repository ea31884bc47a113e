package billing

import (
	"context"

	"github.com/creditkit/creditkit/internal/ledger"
)

// ActivityPageSize is how many ledger entries a page of a member's
// activity shows.
const ActivityPageSize = 25

// Activity is a page of a member's history in an experience: every ledger
// entry of their wallet (purchases, spends, refunds, dispute reversals,
// premium grants), newest first, with the running balance after each,
// older than entry before (0 for the newest). It is the ledger itself, so
// it cannot disagree with the balance. Only a member with access to the
// experience gets it (ErrNoAccess otherwise).
func (s Credits) Activity(ctx context.Context, userID, experienceID string, before int64) (ledger.ActivityPage, error) {
	if err := s.experienceAccess(ctx, userID, experienceID); err != nil {
		return ledger.ActivityPage{}, err
	}
	return s.store.Activity(ctx, experienceID, userID, before, ActivityPageSize)
}
