package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// ChargeRequest asks to buy a credit package. The price comes from the
// configuration, never from the caller.
type ChargeRequest struct {
	UserID         string
	ExperienceID   string
	PackageID      string
	IdempotencyKey string // optional; the same key returns the same checkout
}

// Charge is what the iframe's inAppPurchase needs, plus our purchase id.
type Charge struct {
	CheckoutID  string // "id" for inAppPurchase
	PlanID      string // "planId" for inAppPurchase
	PurchaseID  string
	PurchaseURL string // Whop's hosted checkout, for paying outside the iframe
}

// Charge creates a Whop checkout configuration for a package, with metadata
// naming the purchase, and records the purchase as pending. Nothing is
// written when the package, the experience or the member's access is wrong.
func (s Credits) Charge(ctx context.Context, r ChargeRequest) (Charge, error) {
	pkg, ok := s.pkg(r.PackageID)
	if !ok {
		return Charge{}, ErrUnknownPackage
	}
	if err := s.experienceAccess(ctx, r.UserID, r.ExperienceID); err != nil {
		return Charge{}, err
	}
	if r.IdempotencyKey != "" {
		prev, err := s.store.PurchaseByKey(ctx, r.UserID, r.IdempotencyKey)
		switch {
		case err == nil:
			return chargeFor(prev, r)
		case !errors.Is(err, ledger.ErrNotFound):
			return Charge{}, err
		}
	}
	exp, err := s.whop.GetExperience(ctx, r.ExperienceID)
	if errors.Is(err, whop.ErrNotFound) {
		return Charge{}, ErrUnknownExperience
	}
	if err != nil {
		return Charge{}, fmt.Errorf("billing: charge: experience: %w", err)
	}

	purchaseID := newID(PurchasePrefix)
	ch, err := s.whop.CreateCheckoutConfiguration(ctx, whop.CheckoutConfigurationParams{
		CompanyID: s.cfg.CompanyID,
		Plan:      &whop.InlinePlan{Currency: s.cfg.Currency, InitialPrice: pkg.Price, PlanType: whop.PlanOneTime},
		Metadata: map[string]string{
			MetaPurchaseID:   purchaseID,
			MetaExperienceID: r.ExperienceID,
			MetaUserID:       r.UserID,
			MetaPackageID:    pkg.ID,
		},
		// Coming back from Whop's hosted checkout lands on a page that names
		// our purchase, whatever query parameters Whop adds.
		RedirectURL: s.returnURL(purchaseID),
		// Keyed by our purchase id, so a retried call cannot make two.
		IdempotencyKey: "charge:" + purchaseID,
	})
	if err != nil {
		return Charge{}, fmt.Errorf("billing: charge: checkout configuration: %w", err)
	}
	p, _, err := s.store.CreatePurchase(ctx, ledger.NewPurchase{
		ID: purchaseID, UserID: r.UserID, ExperienceID: r.ExperienceID, CompanyID: exp.CompanyID,
		PackageID: pkg.ID, Credits: pkg.Credits, Price: pkg.Price, Currency: string(s.cfg.Currency),
		CheckoutID: ch.ID, PlanID: ch.PlanID, PurchaseURL: ch.PurchaseURL, IdempotencyKey: r.IdempotencyKey,
	})
	if err != nil {
		return Charge{}, err
	}
	// A concurrent request with the same key may have won the insert; then
	// p is that purchase and our checkout configuration simply goes unused.
	return chargeFor(p, r)
}

func chargeFor(p ledger.Purchase, r ChargeRequest) (Charge, error) {
	if p.PackageID != r.PackageID || p.ExperienceID != r.ExperienceID {
		return Charge{}, ledger.ErrIdempotencyConflict
	}
	return Charge{CheckoutID: p.CheckoutID, PlanID: p.PlanID, PurchaseID: p.ID, PurchaseURL: p.PurchaseURL}, nil
}
