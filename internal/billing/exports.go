package billing

import (
	"context"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// Exports hand the books over a page at a time: each page is one short
// query (no transaction stays open while the file travels), and the caller
// writes it out before the next is read, so nothing holds the whole file.

// exportPageSize is how many rows each page of an export reads.
const exportPageSize = 500

// MaxExportDays bounds a company export's period.
const MaxExportDays = 366

// MemberHistory passes a member's whole history in an experience to write,
// oldest first, a page at a time: every ledger entry of their wallet, and
// every refund of money that took back no credit.
// Only a member with access to the experience gets it (ErrNoAccess).
func (s Reports) MemberHistory(ctx context.Context, userID, experienceID string, write func([]ledger.HistoryRow) error) error {
	if err := s.experienceAccess(ctx, userID, experienceID); err != nil {
		return err
	}
	var after ledger.HistoryCursor
	for {
		// Each page is a short read of its own, from the replica when there
		// is one (a page read again from the primary should it fail).
		var page []ledger.HistoryRow
		_, err := s.reports.Read(ctx, func(st *ledger.Store) (err error) {
			page, err = st.HistoryPage(ctx, experienceID, userID, after, exportPageSize)
			return err
		})
		if err != nil || len(page) == 0 {
			return err
		}
		if err := write(page); err != nil {
			return err
		}
		after = page[len(page)-1].Cursor
	}
}

// ExportPeriod is the UTC days a company export covers, first and last
// inclusive.
type ExportPeriod struct {
	From, To time.Time
}

// ReadExportPeriod reads a period given as two dates (2026-03-01), either
// empty for the dashboard's own window (the last RevenueDays days, today
// included), so an export of the default period reconciles with the
// dashboard's figures.
func (s Reports) ReadExportPeriod(from, to string) (ExportPeriod, error) {
	today := utcDate(s.now())
	p := ExportPeriod{From: today.AddDate(0, 0, -(RevenueDays - 1)), To: today}
	var err error
	if from = strings.TrimSpace(from); from != "" {
		if p.From, err = time.Parse(time.DateOnly, from); err != nil {
			return p, &FieldError{Field: "from", Message: "Give the first day as a date, such as 2026-03-01."}
		}
	}
	if to = strings.TrimSpace(to); to != "" {
		if p.To, err = time.Parse(time.DateOnly, to); err != nil {
			return p, &FieldError{Field: "to", Message: "Give the last day as a date, such as 2026-03-31."}
		}
	}
	switch {
	case p.To.Before(p.From):
		return p, &FieldError{Field: "to", Message: "The last day cannot come before the first."}
	case p.To.Sub(p.From) >= MaxExportDays*24*time.Hour:
		return p, &FieldError{Field: "to", Message: "An export covers at most 366 days."}
	}
	return p, nil
}

// CompanyExport passes a company's sales, refunds, grants, grant expiries
// and payouts in the period to write, in time order, a page at a time, for
// that company's admins. The app owner's export covers every installing
// company's sales, refunds and grants (as its dashboard does) and its own
// payouts.
func (s Reports) CompanyExport(ctx context.Context, userID, companyID string, p ExportPeriod, write func([]ledger.ExportRow) error) error {
	if err := s.companyAdmin(ctx, userID, companyID); err != nil {
		return err
	}
	period := ledger.ExportPeriod{CompanyID: companyID, PayoutCompanyID: companyID, From: p.From, To: p.To}
	if companyID == s.cfg.CompanyID {
		period.CompanyID = ""
	}
	var after ledger.ExportCursor
	for {
		var page []ledger.ExportRow
		_, err := s.reports.Read(ctx, func(st *ledger.Store) (err error) {
			page, err = st.ExportPage(ctx, period, after, exportPageSize)
			return err
		})
		if err != nil || len(page) == 0 {
			return err
		}
		if err := write(page); err != nil {
			return err
		}
		after = page[len(page)-1].Cursor
	}
}

func utcDate(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
