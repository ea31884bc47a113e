package billing

import (
	"context"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// Service is billing by area. Each area is a small service of its own
// (a handful of use cases and the result types they return) over the one
// shared core, so a caller, the HTTP edge's handlers above all, depends on
// the area it uses and a test can fake just that:
//
//   - Access: who may see an experience or administer a company (every
//     other area decides access through the same rules);
//   - Credits: what a member does with credits: the wallet, buying
//     (charge, confirm, the return from Whop's checkout, the purchase
//     modal's outcome) and spending;
//   - Deliveries: Whop's webhook deliveries, the one fulfilment function
//     and the reconciler that catches what a delivery missed;
//   - MoneyOut: a company's payments looked up and refunded, payouts;
//   - Premium: the premium plan, its members and their monthly credits;
//   - Reports: the dashboard and the exports;
//   - Grants: credits a company gives its members.
type Service struct {
	Access     Access
	Credits    Credits
	Deliveries Deliveries
	MoneyOut   MoneyOut
	Premium    Premium
	Reports    Reports
	Grants     Grants

	core *core
}

// Access decides who may see an experience and who administers a company.
type Access struct{ *core }

// Credits is a member's wallet: buying credits and spending them.
type Credits struct{ *core }

// Deliveries applies Whop's webhook deliveries and reconciles what they
// missed; FulfilPayment is the one fulfilment function every path calls.
type Deliveries struct{ *core }

// MoneyOut is money leaving a company: payments looked up and refunded,
// payouts sent.
type MoneyOut struct{ *core }

// Premium is the premium plan: membership, the lounge, its checkout and the
// dashboard's list of members.
type Premium struct{ *core }

// Reports is what admins and members read back: the dashboard, the
// member's history and the company's export.
type Reports struct{ *core }

// Grants is credits a company gives its members.
type Grants struct{ *core }

// ExperienceAccess returns nil when the user may use the experience
// (ErrNoAccess otherwise).
func (s Access) ExperienceAccess(ctx context.Context, userID, experienceID string) error {
	return s.experienceAccess(ctx, userID, experienceID)
}

// CompanyAdmin returns nil when the user administers the company
// (ErrNoAccess otherwise).
func (s Access) CompanyAdmin(ctx context.Context, userID, companyID string) error {
	return s.companyAdmin(ctx, userID, companyID)
}

// FulfilPayment is the one fulfilment function (fulfil.go).
func (s Deliveries) FulfilPayment(ctx context.Context, p *whop.Payment, src Source, d *ledger.Delivery) (Outcome, error) {
	return s.fulfilPayment(ctx, p, src, d)
}

// Reconcile runs the reconciler once (reconcile.go).
func (s Deliveries) Reconcile(ctx context.Context) (ReconcileSummary, error) { return s.reconcile(ctx) }

// PayoutAccount reads the company's ledger account from Whop.
func (s MoneyOut) PayoutAccount(ctx context.Context, companyID string) (PayoutAccount, error) {
	return s.payoutAccount(ctx, companyID)
}
