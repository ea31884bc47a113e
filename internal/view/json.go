package view

import (
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// The JSON API's replies, typed: each key is a field, so a reply's shape
// is read here rather than assembled from maps. A pointer field is null
// when its value is unknown (a time not set, a field the payment's API
// generation does not report).

// Figures are a report's revenue figures.
type Figures struct {
	Sales           int64 `json:"sales"`
	Credits         int64 `json:"credits"`
	Taken           int64 `json:"taken"`
	Refunded        int64 `json:"refunded"`
	RefundedCredits int64 `json:"refunded_credits"`
	Disputes        int64 `json:"disputes"`
	Disputed        int64 `json:"disputed"`
	Net             int64 `json:"net"`
}

func figures(f ledger.RevenueFigures) Figures {
	return Figures{Sales: f.Sales, Credits: f.Credits, Taken: f.Gross, Refunded: f.Refunded,
		RefundedCredits: f.RefundedCredits, Disputes: f.Disputes, Disputed: f.Disputed, Net: f.Net()}
}

// DayFigures are one UTC day's figures.
type DayFigures struct {
	Figures
	Day string `json:"day"`
}

// PackageFigures are one package's figures.
type PackageFigures struct {
	Figures
	Package string `json:"package"`
}

// ShareSummaryReply sums revenue shares.
type ShareSummaryReply struct {
	Count          int64 `json:"count"`
	PaidCount      int64 `json:"paid_count"`
	Paid           int64 `json:"paid"`
	Pending        int64 `json:"pending"`
	Failed         int64 `json:"failed"`
	Withheld       int64 `json:"withheld"`
	Cancelled      int64 `json:"cancelled"`
	OwedBack       int64 `json:"owed_back"`
	RefundedShares int64 `json:"refunded_shares"`
}

func shareSummary(s ledger.ShareSummary) ShareSummaryReply {
	return ShareSummaryReply{Count: s.Count, PaidCount: s.PaidCount, Paid: s.Paid, Pending: s.Pending, Failed: s.Failed,
		Withheld: s.Withheld, Cancelled: s.Cancelled, OwedBack: s.Clawback, RefundedShares: s.RefundedShares}
}

// GrantFiguresReply are the window's granted credits.
type GrantFiguresReply struct {
	Grants      int64 `json:"grants"`
	Granted     int64 `json:"granted"`
	Spent       int64 `json:"spent"`
	Expiries    int64 `json:"expiries"`
	Expired     int64 `json:"expired"`
	Outstanding int64 `json:"outstanding"`
}

// DashboardReply is GET /api/dashboard/{company}.
type DashboardReply struct {
	CompanyID               string            `json:"company_id"`
	CompanyTitle            string            `json:"company_title"`
	Role                    string            `json:"role"`
	Currency                money.Currency    `json:"currency"`
	From                    string            `json:"from"`
	To                      string            `json:"to"`
	Totals                  Figures           `json:"totals"`
	Days                    []DayFigures      `json:"days"`
	Packages                []PackageFigures  `json:"packages"`
	RevenueShares           ShareSummaryReply `json:"revenue_shares"`
	RevenueShareBasisPoints int64             `json:"revenue_share_basis_points"`
	Grants                  GrantFiguresReply `json:"grants"`
	LatestGrants            []GrantReply      `json:"latest_grants"`
	App                     *AppReply         `json:"app"`
	Reports                 ReportsReply      `json:"reports"`
}

// AppReply is the app owner's part of the dashboard.
type AppReply struct {
	Companies []CompanyReply    `json:"companies"`
	Shares    ShareSummaryReply `json:"shares"`
	Net       int64             `json:"net"`
	Books     BooksReply        `json:"books"`
}

// CompanyReply is one installing company's figures.
type CompanyReply struct {
	CompanyID   string  `json:"company_id"`
	Title       string  `json:"title"`
	Experiences int64   `json:"experiences"`
	Sales       int64   `json:"sales"`
	Taken       int64   `json:"taken"`
	Refunded    int64   `json:"refunded"`
	SharePaid   int64   `json:"share_paid"`
	LastSale    *string `json:"last_sale"`
}

// BooksReply compares our books with Whop's list of payments.
type BooksReply struct {
	WhopRead   bool             `json:"whop_read"`
	Error      *string          `json:"error"`
	Incomplete bool             `json:"incomplete"`
	Matched    int              `json:"matched"`
	Clean      bool             `json:"clean"`
	WhopOnly   []BooksDiffReply `json:"whop_only"`
	OursOnly   []BooksDiffReply `json:"ours_only"`
}

// BooksDiffReply is a payment on one side only.
type BooksDiffReply struct {
	PaymentID  string         `json:"payment_id"`
	PurchaseID string         `json:"purchase_id"`
	Amount     int64          `json:"amount"`
	Currency   money.Currency `json:"currency"`
	At         *string        `json:"at"`
	State      string         `json:"state"`
	Refused    *string        `json:"refused"` // null unless we refused the payment
}

// ReportsReply says where the figures were read and how far behind that
// was; stale_seconds is set when the page would say so.
type ReportsReply struct {
	ServedBy     ledger.Source `json:"served_by"`
	LagSeconds   float64       `json:"lag_seconds"`
	StaleSeconds *int64        `json:"stale_seconds"`
}

// DashboardJSON is the dashboard as the API answers it.
func DashboardJSON(d billing.Dashboard) DashboardReply {
	rep := d.Revenue
	out := DashboardReply{
		CompanyID: d.CompanyID, CompanyTitle: d.CompanyTitle, Role: "creator", Currency: d.Currency,
		From: rep.From.Format("2006-01-02"), To: rep.To.Format("2006-01-02"),
		Totals: figures(rep.Totals), Days: make([]DayFigures, 0, len(rep.Days)),
		Packages:      make([]PackageFigures, 0, len(rep.Packages)),
		RevenueShares: shareSummary(d.ShareSummary), RevenueShareBasisPoints: d.ShareBasisPoints,
		Grants: grantFigures(d.Grants), LatestGrants: make([]GrantReply, 0, len(d.GrantList)),
		Reports: ReportsReply{ServedBy: d.Reports.Source, LagSeconds: d.Reports.Lag.Seconds()},
	}
	if d.IsOwner {
		out.Role = "owner"
	}
	for _, day := range rep.Days {
		out.Days = append(out.Days, DayFigures{Figures: figures(day.RevenueFigures), Day: day.Day.Format("2006-01-02")})
	}
	for _, p := range rep.Packages {
		out.Packages = append(out.Packages, PackageFigures{Figures: figures(p.RevenueFigures), Package: p.PackageID})
	}
	for _, g := range d.GrantList {
		out.LatestGrants = append(out.LatestGrants, GrantJSON(g))
	}
	if lag := d.StaleBy(); lag > 0 {
		s := int64(lag / time.Second)
		out.Reports.StaleSeconds = &s
	}
	if o := d.Overview; o != nil {
		app := &AppReply{Companies: make([]CompanyReply, 0, len(o.Companies)), Shares: shareSummary(o.Shares),
			Net: o.Net, Books: books(o.Books)}
		for _, c := range o.Companies {
			app.Companies = append(app.Companies, CompanyReply{CompanyID: c.CompanyID, Title: c.Title,
				Experiences: c.Experiences, Sales: c.Sales, Taken: c.Gross, Refunded: c.Refunded,
				SharePaid: c.SharePaid, LastSale: jsonTime(c.LastSale)})
		}
		out.App = app
	}
	return out
}

func books(b billing.BooksCheck) BooksReply {
	diffs := func(ds []billing.BooksDifference) []BooksDiffReply {
		out := make([]BooksDiffReply, 0, len(ds))
		for _, d := range ds {
			out = append(out, BooksDiffReply{PaymentID: d.PaymentID, PurchaseID: d.PurchaseID,
				Amount: d.Amount, Currency: d.Currency, At: jsonTime(d.When), State: d.State, Refused: orNull(d.Refused)})
		}
		return out
	}
	return BooksReply{WhopRead: b.Err == "", Error: orNull(b.Err), Incomplete: b.Incomplete,
		Matched: b.Matched, Clean: b.Clean(), WhopOnly: diffs(b.WhopOnly), OursOnly: diffs(b.OursOnly)}
}

// orNull is s, or null when it is empty.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// PaymentReply is GET /api/payments/{id}: a payment as its company's
// admins see it, field by field; what the API generation does not report
// is null.
type PaymentReply struct {
	ID                      string                 `json:"id"`
	API                     whop.PaymentsAPI       `json:"api"`
	Status                  whop.PaymentStatus     `json:"status"`
	Substatus               *whop.PaymentSubstatus `json:"substatus"`
	Currency                money.Currency         `json:"currency"`
	RefundState             billing.RefundState    `json:"refund_state"`
	CanRefund               bool                   `json:"can_refund"`
	Refundable              *bool                  `json:"refundable"`
	Amounts                 PaymentAmounts         `json:"amounts"`
	Card                    PaymentCard            `json:"card"`
	PaymentMethodType       *string                `json:"payment_method_type"`
	BillingReason           *string                `json:"billing_reason"`
	User                    PaymentUser            `json:"user"`
	Membership              PaymentMembership      `json:"membership"`
	PlanID                  string                 `json:"plan_id"`
	ProductID               string                 `json:"product_id"`
	CompanyID               string                 `json:"company_id"`
	CheckoutConfigurationID string                 `json:"checkout_configuration_id"`
	CreatedAt               *string                `json:"created_at"`
	PaidAt                  *string                `json:"paid_at"`
	RefundedAt              *string                `json:"refunded_at"`
	UpdatedAt               *string                `json:"updated_at"`
	FailureMessage          string                 `json:"failure_message"`
	Purchase                *PurchaseReply         `json:"purchase"`
	RevenueShare            *ShareReply            `json:"revenue_share"`
	Disputes                []DisputeReply         `json:"disputes"`
	// Refusals are why the app refused to credit the payment, oldest
	// first; empty for a payment it credited or never saw.
	Refusals []RefusalReply `json:"refusals"`
}

// PaymentAmounts are a payment's amounts in minor units.
type PaymentAmounts struct {
	Subtotal  int64  `json:"subtotal"`
	Total     int64  `json:"total"`
	Refunded  int64  `json:"refunded"`
	AfterFees *int64 `json:"after_fees"`
	USDTotal  *int64 `json:"usd_total"`
}

// PaymentCard is the card a payment was made with.
type PaymentCard struct {
	Brand string `json:"brand"`
	Last4 string `json:"last4"`
}

// PaymentUser is who paid.
type PaymentUser struct {
	ID       string  `json:"id"`
	Email    string  `json:"email"`
	Username *string `json:"username"`
}

// PaymentMembership is the membership a payment belongs to.
type PaymentMembership struct {
	ID     string                 `json:"id"`
	Status *whop.MembershipStatus `json:"status"`
}

// PurchaseReply is our purchase behind a payment.
type PurchaseReply struct {
	ID              string                `json:"id"`
	ExperienceID    string                `json:"experience_id"`
	CompanyID       string                `json:"company_id"`
	UserID          string                `json:"user_id"`
	Package         string                `json:"package"`
	Credits         int64                 `json:"credits"`
	Price           int64                 `json:"price"`
	Status          ledger.PurchaseStatus `json:"status"`
	RefundedCredits int64                 `json:"refunded_credits"`
	// Payments are the kept states of the purchase's payments that did not
	// (or not yet) pay it, newest first.
	Payments []PaymentAttemptReply `json:"payments"`
}

// PaymentAttemptReply is one payment's kept state of a purchase.
type PaymentAttemptReply struct {
	PaymentID string  `json:"payment_id"`
	Status    string  `json:"status"` // processing, failed or refused
	Reason    string  `json:"reason"`
	At        *string `json:"at"` // Whop's time of the state; null when unknown
}

// ShareReply is the revenue share a payment earned its creator.
type ShareReply struct {
	Amount         int64                 `json:"amount"`
	ToCompanyID    string                `json:"to_company_id"`
	Status         ledger.TransferStatus `json:"status"`
	TransferID     string                `json:"transfer_id"`
	TransferAmount *int64                `json:"transfer_amount"` // once decided
	Withheld       int64                 `json:"withheld"`
	Clawback       int64                 `json:"clawback"`
}

// DisputeReply is a dispute of a payment.
type DisputeReply struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// RefusalReply is why the app refused to credit a payment.
type RefusalReply struct {
	PurchaseID string `json:"purchase_id"`
	Source     string `json:"source"`
	Reason     string `json:"reason"`
}

// reported is &v, or nil when the payment's generation does not carry field.
func reported[T any](look billing.PaymentLookup, field string, v T) *T {
	if look.Unreported[field] {
		return nil
	}
	return &v
}

// PaymentJSON is a looked-up payment as the API answers it.
func PaymentJSON(look billing.PaymentLookup) PaymentReply {
	p := look.Payment
	out := PaymentReply{
		ID: p.ID, API: p.API, Status: p.Status,
		Substatus:   reported(look, whop.FieldSubstatus, p.Substatus),
		Currency:    p.Currency,
		RefundState: look.RefundState, CanRefund: look.CanRefund,
		Refundable: reported(look, whop.FieldRefundable, p.Refundable),
		Amounts: PaymentAmounts{
			Subtotal: p.Subtotal, Total: p.Total, Refunded: p.RefundedAmount,
			AfterFees: reported(look, whop.FieldNet, p.AmountAfterFees),
			USDTotal:  reported(look, whop.FieldUSDTotal, p.USDTotal),
		},
		Card:              PaymentCard{Brand: p.CardBrand, Last4: p.CardLast4},
		PaymentMethodType: reported(look, whop.FieldPaymentMethodType, p.PaymentMethodType),
		BillingReason:     reported(look, whop.FieldBillingReason, p.BillingReason),
		User: PaymentUser{ID: p.UserID, Email: p.UserEmail,
			Username: reported(look, whop.FieldUsername, p.Username)},
		Membership: PaymentMembership{ID: p.MembershipID,
			Status: reported(look, whop.FieldMembershipStatus, p.MembershipStatus)},
		PlanID: p.PlanID, ProductID: p.ProductID, CompanyID: p.CompanyID,
		CheckoutConfigurationID: p.CheckoutConfigurationID,
		CreatedAt:               jsonTime(p.CreatedAt), PaidAt: jsonTime(p.PaidAt), RefundedAt: jsonTime(p.RefundedAt),
		FailureMessage: p.FailureMessage,
		Disputes:       make([]DisputeReply, 0, len(look.Disputes)),
		Refusals:       make([]RefusalReply, 0, len(look.Refusals)),
	}
	if !look.Unreported[whop.FieldUpdatedAt] {
		out.UpdatedAt = jsonTime(p.UpdatedAt)
	}
	if pur := look.Purchase; pur != nil {
		out.Purchase = &PurchaseReply{ID: pur.ID, ExperienceID: pur.ExperienceID, CompanyID: pur.CompanyID,
			UserID: pur.UserID, Package: pur.PackageID, Credits: pur.Credits, Price: pur.Price,
			Status: pur.Status, RefundedCredits: pur.RefundedCredits,
			Payments: make([]PaymentAttemptReply, 0, len(look.Attempts))}
		for _, a := range look.Attempts {
			out.Purchase.Payments = append(out.Purchase.Payments,
				PaymentAttemptReply{PaymentID: a.PaymentID, Status: a.Status, Reason: a.Reason, At: jsonTime(a.At)})
		}
	}
	if sh := look.Share; sh != nil {
		out.RevenueShare = &ShareReply{Amount: sh.Amount, ToCompanyID: sh.ToCompanyID,
			Status: sh.Status, TransferID: sh.TransferID, Withheld: sh.Withheld(), Clawback: sh.Clawback}
		if sh.TransferAmount > 0 {
			out.RevenueShare.TransferAmount = &sh.TransferAmount
		}
	}
	for _, d := range look.Disputes {
		out.Disputes = append(out.Disputes, DisputeReply{ID: d.ID, Amount: d.Amount, Status: d.Status, Reason: d.Reason})
	}
	for _, r := range look.Refusals {
		out.Refusals = append(out.Refusals, RefusalReply{PurchaseID: r.PurchaseID, Source: r.Source, Reason: r.Reason})
	}
	return out
}

// PayoutReply is a payout as the API answers it.
type PayoutReply struct {
	ID              string                `json:"id"`
	CompanyID       string                `json:"company_id"`
	Status          ledger.TransferStatus `json:"status"`
	Recipient       PayoutRecipient       `json:"recipient"`
	Amount          int64                 `json:"amount"`
	Currency        string                `json:"currency"`
	Fee             int64                 `json:"fee"`
	ChargedFee      int64                 `json:"charged_fee"`
	Notes           string                `json:"notes"`
	LedgerAccountID string                `json:"ledger_account_id"`
	TransferID      string                `json:"transfer_id"`
	Attempts        int                   `json:"attempts"`
	LastError       string                `json:"last_error"`
	IdempotencyKey  string                `json:"idempotency_key"`
	CreatedAt       *string               `json:"created_at"`
	FinishedAt      *string               `json:"finished_at"`
}

// PayoutRecipient is who a payout went to, as asked and as Whop knew them.
type PayoutRecipient struct {
	Input    string `json:"input"`
	ID       string `json:"id"`
	Username string `json:"username"`
}

// PayoutJSON is a payout as the API answers it.
func PayoutJSON(p ledger.Payout) PayoutReply {
	return PayoutReply{
		ID: p.ID, CompanyID: p.CompanyID, Status: p.Status,
		Recipient: PayoutRecipient{Input: p.RecipientInput, ID: p.RecipientID, Username: p.RecipientUsername},
		Amount:    p.Amount, Currency: p.Currency, Fee: p.Fee, ChargedFee: p.ChargedFee, Notes: p.Notes,
		LedgerAccountID: p.LedgerAccountID, TransferID: p.TransferID, Attempts: p.Attempts,
		LastError: p.LastError, IdempotencyKey: p.IdempotencyKey,
		CreatedAt: jsonTime(p.CreatedAt), FinishedAt: jsonTime(p.FinishedAt),
	}
}
