package billing

import (
	"context"

	"github.com/creditkit/creditkit/internal/ledger"
)

// SpendRequest spends credits on an item.
type SpendRequest struct {
	UserID         string
	ExperienceID   string
	ItemID         string
	IdempotencyKey string
}

// Spend debits an item's cost from the member's wallet in the experience,
// atomically; the same key replays the first result.
func (s *Service) Spend(ctx context.Context, r SpendRequest) (ledger.Spend, error) {
	if err := s.ExperienceAccess(ctx, r.UserID, r.ExperienceID); err != nil {
		return ledger.Spend{}, err
	}
	return s.store.Spend(ctx, ledger.SpendRequest{
		ExperienceID: r.ExperienceID, UserID: r.UserID, ItemID: r.ItemID, IdempotencyKey: r.IdempotencyKey,
	})
}

// Wallet is what a member sees of their credits in an experience.
type Wallet = ledger.WalletView

// Wallet reads a member's balance, the items on offer and their latest
// purchases. Access is the caller's to check (the page middleware does).
func (s *Service) Wallet(ctx context.Context, userID, experienceID string) (Wallet, error) {
	return s.store.WalletView(ctx, experienceID, userID, 10)
}
