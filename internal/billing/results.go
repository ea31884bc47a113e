package billing

import "github.com/creditkit/creditkit/internal/ledger"

// Results billing hands its callers that are the ledger's rows as they
// stand. They are named here, as billing's, so a caller (the HTTP edge,
// the view models) depends on billing and never reaches into the ledger:
// should billing ever need to shape one differently, it changes here and
// no caller imports ledger to follow. (ReconcileSummary, in reconcile.go,
// is the same kind of name.)
type (
	// ActivityPage is a page of a member's activity (Credits.Activity).
	ActivityPage = ledger.ActivityPage
	// ActivityEntry is one line of it.
	ActivityEntry = ledger.ActivityEntry
	// Spent is a spend as it was recorded, or replayed (Credits.Spend).
	Spent = ledger.Spend
	// Purchase is a purchase of credits (receipts, confirm, return).
	Purchase = ledger.Purchase
	// HistoryRow is an entry of a member's export (Reports.MemberHistory).
	HistoryRow = ledger.HistoryRow
	// ExportRow is a line of a company's export (Reports.CompanyExport).
	ExportRow = ledger.ExportRow
	// Payout is a payout as it stands (MoneyOut.SendPayout).
	Payout = ledger.Payout
	// TransferStatus is where a payout or a revenue share stands.
	TransferStatus = ledger.TransferStatus
	// InsufficientCreditsError is a spend the balance does not cover.
	InsufficientCreditsError = ledger.InsufficientCreditsError
	// ReconcilerTotals are the reconciler's runs, app-wide (metrics).
	ReconcilerTotals = ledger.ReconcilerTotals
	// JobCounts are River's jobs of one kind, by state (metrics).
	JobCounts = ledger.JobCounts
	// ReportingStats are where reporting reads ran (metrics).
	ReportingStats = ledger.ReportingStats
	// ReadSource is where a reporting read ran: the replica or the primary.
	ReadSource = ledger.Source
	// TopUpRule is a member's auto top-up rule as set (TopUps.Settings).
	TopUpRule = ledger.TopUpRule
)

// Where a payout stands.
const (
	TransferPending = ledger.TransferPending
	TransferPaid    = ledger.TransferPaid
	TransferFailed  = ledger.TransferFailed
)

// Where a reporting read ran.
const (
	ReadReplica = ledger.SourceReplica
	ReadPrimary = ledger.SourcePrimary
)

// Errors of the ledger that reach callers through billing unchanged.
var (
	ErrNotFound            = ledger.ErrNotFound
	ErrIdempotencyConflict = ledger.ErrIdempotencyConflict
	ErrUnknownItem         = ledger.ErrUnknownItem
)
