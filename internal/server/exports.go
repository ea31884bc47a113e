package server

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/go-chi/chi/v5"
)

// The exports are CSV (RFC 4180), written as billing reads them, a page at
// a time: each page goes to the client (and is flushed) before the next is
// read, so neither the server nor the database holds the whole file. Money
// is an integer of minor units beside its currency; times are RFC 3339 UTC.

// historyColumns are the member's export's columns.
var historyColumns = []string{"entry_id", "created_at", "type", "credits", "balance_after", "amount", "currency",
	"reference", "description"}

// activityCSV is GET /experiences/{id}/activity.csv: every entry of the
// member's wallet, oldest first; the last balance_after is the balance.
func (s *Server) activityCSV(w http.ResponseWriter, r *http.Request) {
	expID := chi.URLParam(r, "experienceId")
	out := newCSVStream(w, "creditkit-activity-"+expID+".csv", historyColumns)
	err := s.billing.MemberHistory(r.Context(), userID(r.Context()), expID, func(rows []ledger.HistoryRow) error {
		for _, h := range rows {
			cur := h.Currency
			out.row(strconv.FormatInt(h.EntryID, 10), csvTime(h.At), historyType(h), strconv.FormatInt(h.Credits, 10),
				strconv.FormatInt(h.BalanceAfter, 10), strconv.FormatInt(h.Money, 10), cur, h.Reference, csvText(h.Detail))
		}
		return out.flush()
	})
	s.finishCSV(w, r, out, err)
}

// historyType names an entry's kind in the member's export.
func historyType(h ledger.HistoryRow) string {
	switch {
	case h.Kind == ledger.KindRefund && h.DisputeLost:
		return "chargeback"
	case h.Kind == ledger.KindGrant && strings.HasPrefix(h.Reference, "mem_"):
		return "premium_grant"
	case h.Kind == ledger.KindExpiry:
		return "grant_expiry"
	}
	return string(h.Kind)
}

// exportColumns are the company's export's columns.
var exportColumns = []string{"created_at", "type", "entry_id", "experience_id", "member_id", "reference", "payment_id",
	"credits", "amount", "fee", "currency", "status", "description"}

// exportCSV is GET /dashboard/{id}/export.csv?from=&to=: the company's
// sales, refunds, grants, expiries and payouts of those UTC days (by
// default the dashboard's window), for its admins.
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) {
	company := chi.URLParam(r, "companyId")
	q := r.URL.Query()
	if err := checkFields(field{"from", q.Get("from"), false, kindDate}, field{"to", q.Get("to"), false, kindDate}); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.billing.ReadExportPeriod(q.Get("from"), q.Get("to"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := "creditkit-" + company + "-" + p.From.Format("2006-01-02") + "-to-" + p.To.Format("2006-01-02") + ".csv"
	out := newCSVStream(w, name, exportColumns)
	err = s.billing.CompanyExport(r.Context(), userID(r.Context()), company, p, func(rows []ledger.ExportRow) error {
		for _, x := range rows {
			entry := ""
			if x.EntryID != 0 {
				entry = strconv.FormatInt(x.EntryID, 10)
			}
			out.row(csvTime(x.At), x.Type, entry, x.ExperienceID, x.UserID, x.Reference, x.PaymentID,
				strconv.FormatInt(x.Credits, 10), strconv.FormatInt(x.Amount, 10), strconv.FormatInt(x.Fee, 10),
				x.Currency, x.Status, csvText(x.Detail))
		}
		return out.flush()
	})
	s.finishCSV(w, r, out, err)
}

// csvStream writes a CSV response. Its header goes out with the first
// rows (or at the end when there are none), so a failure before anything
// was sent is still answered with a proper error.
type csvStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	csv     *csv.Writer
	name    string
	columns []string
	started bool
}

func newCSVStream(w http.ResponseWriter, filename string, columns []string) *csvStream {
	return &csvStream{w: w, rc: http.NewResponseController(w), csv: csv.NewWriter(w), name: filename, columns: columns}
}

func (c *csvStream) start() {
	if c.started {
		return
	}
	c.started = true
	h := c.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+c.name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.w.WriteHeader(http.StatusOK)
	c.csv.Write(c.columns)
}

func (c *csvStream) row(cells ...string) {
	c.start()
	c.csv.Write(cells)
}

// flush sends what is written so far to the client.
func (c *csvStream) flush() error {
	c.start()
	c.csv.Flush()
	if err := c.csv.Error(); err != nil {
		return err
	}
	if err := c.rc.Flush(); err != nil && err != http.ErrNotSupported {
		return err
	}
	return nil
}

// finishCSV ends the response: an error before anything was sent is
// answered as any other; once rows have gone out the status cannot change,
// so the file stops short and the failure is logged.
func (s *Server) finishCSV(w http.ResponseWriter, r *http.Request, c *csvStream, err error) {
	switch {
	case err == nil:
		c.flush()
	case !c.started:
		s.fail(w, r, err)
	case !clientGone(r):
		s.log.ErrorContext(r.Context(), "export stopped part-way", slog.String("error", err.Error()))
	}
}

func csvTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// csvText keeps a person's text (a reason, a note) from being read as a
// formula by a spreadsheet opening the file: text that starts like one
// gets a leading apostrophe, as OWASP advises for CSV exports.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
