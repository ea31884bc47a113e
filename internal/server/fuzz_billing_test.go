package server

import (
	"context"
	"strconv"
	"sync"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// recorded is one argument billing was handed: its name and value.
type recorded struct{ name, value string }

// everyArea is every area's interface at once, for a fake that stands in
// for all of billing; one embedding it (nil) panics in any method it does
// not define.
type everyArea interface {
	Access
	Credits
	Deliveries
	Premium
	Reports
	MoneyOut
	Grants
}

// billingOf is Billing with every area answered by b.
func billingOf(b everyArea) Billing {
	return Billing{Access: b, Credits: b, Deliveries: b, Premium: b, Reports: b, MoneyOut: b, Grants: b}
}

// recordingBilling is billing for the fuzz targets: it succeeds at
// everything and keeps the arguments.
type recordingBilling struct {
	everyArea // any method not below panics: a route calling it shows as a 500
	mu        sync.Mutex
	args      []recorded
}

func (b *recordingBilling) record(pairs ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := 0; i+1 < len(pairs); i += 2 {
		b.args = append(b.args, recorded{pairs[i], pairs[i+1]})
	}
}

func (b *recordingBilling) take() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.args
	b.args = nil
	return out
}

func (b *recordingBilling) ExperienceAccess(_ context.Context, user, exp string) error {
	b.record("call", "ExperienceAccess", "user_id", user, "experience_id", exp)
	return nil
}

func (b *recordingBilling) CompanyAdmin(_ context.Context, user, company string) error {
	b.record("call", "CompanyAdmin", "user_id", user, "company_id", company)
	return nil
}

func (b *recordingBilling) Charge(_ context.Context, r billing.ChargeRequest) (billing.Charge, error) {
	b.record("call", "Charge", "user_id", r.UserID, "experience_id", r.ExperienceID, "package", r.PackageID, "idempotency_key", r.IdempotencyKey)
	return billing.Charge{CheckoutID: "ch_1", PlanID: "plan_1", PurchaseID: "pur_1"}, nil
}

func (b *recordingBilling) Confirm(_ context.Context, user, purchase, receipt string) (billing.ConfirmResult, error) {
	b.record("call", "Confirm", "user_id", user, "purchase_id", purchase, "payment_id", receipt)
	return billing.ConfirmResult{}, nil
}

func (b *recordingBilling) CheckModalOutcome(_ context.Context, user, purchase string) (billing.ModalOutcome, error) {
	b.record("call", "CheckModalOutcome", "user_id", user, "purchase_id", purchase)
	return billing.ModalOutcome{End: billing.ModalClosed}, nil
}

func (b *recordingBilling) Activity(_ context.Context, user, exp string, before int64) (billing.ActivityPage, error) {
	b.record("call", "Activity", "user_id", user, "experience_id", exp, "before", strconv.FormatInt(before, 10))
	return billing.ActivityPage{}, nil
}

func (b *recordingBilling) Spend(_ context.Context, r billing.SpendRequest) (billing.Spent, error) {
	b.record("call", "Spend", "user_id", r.UserID, "experience_id", r.ExperienceID, "item", r.ItemID, "idempotency_key", r.IdempotencyKey)
	return billing.Spent{}, nil
}

func (b *recordingBilling) UpgradeCheckout(_ context.Context, user, exp string) (billing.PremiumCheckout, error) {
	b.record("call", "UpgradeCheckout", "user_id", user, "experience_id", exp)
	return billing.PremiumCheckout{}, nil
}

func (b *recordingBilling) State(_ context.Context, user, exp string) (billing.PremiumState, error) {
	b.record("call", "Premium", "user_id", user, "experience_id", exp)
	return billing.PremiumState{Enabled: true}, nil
}

func (b *recordingBilling) LookupPayment(_ context.Context, user, company, payment string) (billing.PaymentLookup, error) {
	b.record("call", "LookupPayment", "user_id", user, "company_id", company, "payment_id", payment)
	return billing.PaymentLookup{}, billing.ErrPaymentNotFound
}

func (b *recordingBilling) SendPayout(_ context.Context, r billing.PayoutRequest) (billing.PayoutResult, error) {
	b.record("call", "SendPayout", "user_id", r.UserID, "company_id", r.CompanyID, "recipient", r.Recipient, "amount", r.Amount,
		"notes", r.Notes, "idempotency_key", r.IdempotencyKey)
	return billing.PayoutResult{Payout: ledger.Payout{ID: "po_1", Status: ledger.TransferPaid}}, nil
}

func (b *recordingBilling) GrantCredits(_ context.Context, r billing.GrantRequest) (billing.GrantResult, error) {
	b.record("call", "GrantCredits", "user_id", r.UserID, "company_id", r.CompanyID, "experience_id", r.ExperienceID,
		"member", r.Member, "credits", r.Credits, "reason", r.Reason, "expires_at", r.ExpiresAt, "idempotency_key", r.IdempotencyKey)
	return billing.GrantResult{Grant: ledger.CreditGrant{ID: "grt_1"}}, nil
}

func (b *recordingBilling) MemberHistory(_ context.Context, user, exp string, write func([]billing.HistoryRow) error) error {
	b.record("call", "MemberHistory", "user_id", user, "experience_id", exp)
	return write([]billing.HistoryRow{{EntryID: 1, Kind: ledger.KindGrant, Credits: 5, BalanceAfter: 5, Detail: "=cmd"}})
}

func (b *recordingBilling) ReadExportPeriod(from, to string) (billing.ExportPeriod, error) {
	b.record("from", from, "to", to)
	return billing.ExportPeriod{}, nil
}

func (b *recordingBilling) CompanyExport(_ context.Context, user, company string, _ billing.ExportPeriod, write func([]billing.ExportRow) error) error {
	b.record("call", "CompanyExport", "user_id", user, "company_id", company)
	return write([]billing.ExportRow{{Type: "sale", Amount: 499, Currency: "usd"}})
}

func (b *recordingBilling) RefundPayment(_ context.Context, r billing.RefundRequest) (billing.PaymentLookup, error) {
	b.record("call", "RefundPayment", "user_id", r.UserID, "company_id", r.CompanyID, "payment_id", r.PaymentID, "amount", r.Amount,
		"idempotency_key", r.IdempotencyKey)
	return billing.PaymentLookup{}, nil
}

func (b *recordingBilling) Dashboard(_ context.Context, user, company string) (billing.Dashboard, error) {
	b.record("call", "Dashboard", "user_id", user, "company_id", company)
	return billing.Dashboard{CompanyID: company, Currency: money.USD}, nil
}

func (b *recordingBilling) Enabled() bool                 { return false }
func (b *recordingBilling) PaymentsAPI() whop.PaymentsAPI { return whop.PaymentsV1 }
func (b *recordingBilling) Currency() money.Currency      { return money.USD }
func (b *recordingBilling) Packages() []billing.Package   { return nil }
func (b *recordingBilling) Members(context.Context, string, string) (billing.PremiumList, error) {
	return billing.PremiumList{}, nil
}

// anyToken verifies every token as the user it names, so the fuzzer
// reaches the handlers; a token of "" is no token.
type anyToken struct{}

func (anyToken) Verify(_ context.Context, raw string) (*whop.UserToken, error) {
	return &whop.UserToken{UserID: raw, AppID: "app_test"}, nil
}
