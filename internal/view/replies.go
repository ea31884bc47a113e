package view

import (
	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
)

// ChargeReply is POST /api/charge: what the iframe SDK's inAppPurchase
// takes (id, planId), our purchase id and Whop's hosted checkout page.
type ChargeReply struct {
	ID          string `json:"id"`
	PlanID      string `json:"planId"`
	PurchaseID  string `json:"purchase_id"`
	PurchaseURL string `json:"purchase_url"`
}

// PremiumCheckoutReply is POST /api/premium/checkout: the checkout for
// inAppPurchase and the hosted page.
type PremiumCheckoutReply struct {
	ID          string `json:"id"`
	PlanID      string `json:"planId"`
	PurchaseURL string `json:"purchase_url"`
}

// PremiumStatusReply says whether the member has premium now.
type PremiumStatusReply struct {
	Premium bool `json:"premium"`
}

// ProcessingReply is a confirm Whop has not made readable yet (202).
type ProcessingReply struct {
	Status string `json:"status"` // "processing"
}

// ConfirmReply is a confirmed purchase and the wallet's balance after it.
type ConfirmReply struct {
	Status   ledger.PurchaseStatus `json:"status"`
	Balance  int64                 `json:"balance"`
	Purchase ConfirmedPurchase     `json:"purchase"`
}

// ConfirmedPurchase is the purchase a confirm settled.
type ConfirmedPurchase struct {
	ID        string `json:"id"`
	Credits   int64  `json:"credits"`
	Package   string `json:"package"`
	PaymentID string `json:"payment_id"`
}

// Confirm is the reply to a confirm.
func Confirm(res billing.ConfirmResult) ConfirmReply {
	p := res.Purchase
	return ConfirmReply{Status: p.Status, Balance: res.Balance,
		Purchase: ConfirmedPurchase{ID: p.ID, Credits: p.Credits, Package: p.PackageID, PaymentID: p.PaymentID}}
}

// ModalReply says what a purchase modal's error meant.
type ModalReply struct {
	Outcome billing.ModalEnd `json:"outcome"`
	Reason  string           `json:"reason"`
	Balance int64            `json:"balance"`
	Credits int64            `json:"credits"`
	Advice  string           `json:"advice,omitempty"` // for a refused payment: what to do next
}

// Modal is the reply to a modal outcome check.
func Modal(out billing.ModalOutcome) ModalReply {
	r := ModalReply{Outcome: out.End, Reason: out.Reason, Balance: out.Balance, Credits: out.Purchase.Credits}
	if out.End == billing.ModalRefused {
		r.Advice = RefusedAdvice
	}
	return r
}

// SpendReply is POST /api/spend: what was bought and the balance after.
type SpendReply struct {
	SpendID  int64  `json:"spend_id"`
	Item     string `json:"item"`
	Title    string `json:"title"`
	Cost     int64  `json:"cost"`
	Balance  int64  `json:"balance"`
	Replayed bool   `json:"replayed"`
}

// Spend is the reply to a spend.
func Spend(sp ledger.Spend) SpendReply {
	return SpendReply{SpendID: sp.ID, Item: sp.ItemID, Title: sp.Title, Cost: sp.Cost, Balance: sp.BalanceAfter, Replayed: sp.Replayed}
}

// GrantResultReply is POST /api/grants.
type GrantResultReply struct {
	Grant    GrantReply `json:"grant"`
	Replayed bool       `json:"replayed"`
}
