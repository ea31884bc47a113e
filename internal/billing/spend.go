package billing

import (
	"context"

	"github.com/creditkit/creditkit/internal/ledger"
)

// Item is one thing credits buy, as the app owner configured it.
type Item struct {
	ID          string
	Title       string
	Description string
	Cost        int64 // credits
}

// SpendRequest spends credits on an item.
type SpendRequest struct {
	UserID         string
	ExperienceID   string
	ItemID         string
	IdempotencyKey string
}

// Items is the catalog, in the order configured.
func (s Credits) Items() []Item { return s.cfg.Items }

func (s *core) item(id string) (Item, bool) {
	for _, it := range s.cfg.Items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Spend debits an item's cost from the member's wallet in the experience,
// atomically; the same key replays the first result. The spend records the
// item's title and cost as the catalog has them now, so a later repricing
// or removal leaves it as it was. A key already used is answered before
// the catalog is consulted: a retried click still gets its first result
// after the item was removed.
func (s Credits) Spend(ctx context.Context, r SpendRequest) (ledger.Spend, error) {
	if err := s.experienceAccess(ctx, r.UserID, r.ExperienceID); err != nil {
		return ledger.Spend{}, err
	}
	it, ok := s.item(r.ItemID)
	if !ok {
		if prev, err := s.store.ReplaySpend(ctx, ledger.SpendRequest{
			ExperienceID: r.ExperienceID, UserID: r.UserID, ItemID: r.ItemID, IdempotencyKey: r.IdempotencyKey,
		}); err == nil {
			return prev, nil
		}
		return ledger.Spend{}, ledger.ErrUnknownItem
	}
	return s.store.Spend(ctx, ledger.SpendRequest{
		ExperienceID: r.ExperienceID, UserID: r.UserID, ItemID: it.ID, Title: it.Title, Cost: it.Cost,
		IdempotencyKey: r.IdempotencyKey,
	})
}

// Balance reads a member's balance in an experience, for a page that shows
// it and nothing else of the wallet: one row, and no premium check, so a
// page that does not show premium does not wait on Whop for it. Only a
// member with access to the experience gets it (ErrNoAccess otherwise), as
// for Wallet.
func (s Credits) Balance(ctx context.Context, userID, experienceID string) (int64, error) {
	if err := s.experienceAccess(ctx, userID, experienceID); err != nil {
		return 0, err
	}
	return s.store.Balance(ctx, experienceID, userID)
}

// Wallet is what a member sees of their credits in an experience.
type Wallet struct {
	ledger.WalletView
	Items   []Item
	Premium PremiumState
}

// Wallet reads a member's balance, the items on offer, their latest
// purchases and their premium state: one round trip for a member without
// premium (the premium cache's clock is read with the wallet), three for
// one with it. Only a member with access to the experience gets it
// (ErrNoAccess otherwise); the page middleware's earlier check is cached,
// so this one costs nothing more.
//
// The premium state is the one to show: an expired "not premium" answer is
// shown while Whop is asked again (premiumCache.checkAt). fresh asks for
// what premium decides instead, as the page re-read after an upgrade needs:
// a "no" older than five seconds is asked about before the page is
// answered, so a replica that has not seen the upgrade does not show the
// upgrade offer again.
func (s Credits) Wallet(ctx context.Context, userID, experienceID string, fresh bool) (Wallet, error) {
	if err := s.experienceAccess(ctx, userID, experienceID); err != nil {
		return Wallet{}, err
	}
	v, err := s.store.WalletView(ctx, experienceID, userID, 10)
	if err != nil {
		return Wallet{}, err
	}
	w := Wallet{WalletView: v, Items: s.cfg.Items}
	if !s.cfg.Premium.Enabled() {
		return w, nil
	}
	member, err := s.premium.checkAt(ctx, userID, v.Now, v.MembershipChanged, !fresh)
	if err == nil {
		w.Premium, err = s.premiumState(ctx, userID, experienceID, member)
	}
	return w, err
}
