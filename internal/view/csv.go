package view

import (
	"github.com/creditkit/creditkit/internal/ledger"
	"strconv"
	"strings"
	"time"
)

// HistoryColumns are the member's export's columns.
var HistoryColumns = []string{"entry_id", "created_at", "type", "credits", "balance_after", "amount", "currency",
	"reference", "description"}

// HistoryType names an entry's kind in the member's export.
func HistoryType(h ledger.HistoryRow) string {
	premium := strings.HasPrefix(h.Reference, "mem_")
	switch {
	case h.Kind == ledger.KindRefund && premium && h.DisputeLost:
		return "premium_chargeback"
	case h.Kind == ledger.KindRefund && premium:
		return "premium_refund"
	case h.Kind == ledger.KindRefund && h.DisputeLost:
		return "chargeback"
	case h.Kind == ledger.KindGrant && premium:
		return "premium_grant"
	case h.Kind == ledger.KindExpiry:
		return "grant_expiry"
	}
	return string(h.Kind)
}

// ExportColumns are the company's export's columns.
var ExportColumns = []string{"created_at", "type", "entry_id", "experience_id", "member_id", "reference", "payment_id",
	"credits", "amount", "fee", "currency", "status", "description"}

// CSVTime is a time in the exports: RFC 3339, UTC.
func CSVTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// CSVText keeps a person's text (a reason, a note) from being read as a
// formula by a spreadsheet opening the file: text that starts like one
// gets a leading apostrophe, as OWASP advises for CSV exports.
func CSVText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// HistoryRecord is a line of a member's export, in HistoryColumns' order:
// a refund of money alone has no entry, so no entry_id.
func HistoryRecord(h ledger.HistoryRow) []string {
	entry := ""
	if h.EntryID != 0 {
		entry = strconv.FormatInt(h.EntryID, 10)
	}
	return []string{entry, CSVTime(h.At), HistoryType(h), strconv.FormatInt(h.Credits, 10),
		strconv.FormatInt(h.BalanceAfter, 10), strconv.FormatInt(h.Money, 10), h.Currency, h.Reference, CSVText(h.Detail)}
}

// ExportRecord is a line of a company's export, in ExportColumns' order.
func ExportRecord(x ledger.ExportRow) []string {
	entry := ""
	if x.EntryID != 0 {
		entry = strconv.FormatInt(x.EntryID, 10)
	}
	return []string{CSVTime(x.At), x.Type, entry, x.ExperienceID, x.UserID, x.Reference, x.PaymentID,
		strconv.FormatInt(x.Credits, 10), strconv.FormatInt(x.Amount, 10), strconv.FormatInt(x.Fee, 10),
		x.Currency, x.Status, CSVText(x.Detail)}
}
