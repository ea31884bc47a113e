package server

import (
	"encoding/csv"
	"log/slog"
	"net/http"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/view"
	"github.com/go-chi/chi/v5"
)

// The exports are CSV (RFC 4180), written as billing reads them, a page at
// a time: each page goes to the client (and is flushed) before the next is
// read, so neither the server nor the database holds the whole file. Money
// is an integer of minor units beside its currency; times are RFC 3339 UTC.

// activityCSV is GET /experiences/{id}/activity.csv: every entry of the
// member's wallet, oldest first; the last balance_after is the balance.
func (s *Server) activityCSV(w http.ResponseWriter, r *http.Request) {
	expID := chi.URLParam(r, "experienceId")
	out := newCSVStream(w, "creditkit-activity-"+expID+".csv", view.HistoryColumns)
	err := s.billing.Reports.MemberHistory(r.Context(), userID(r.Context()), expID, func(rows []billing.HistoryRow) error {
		for _, h := range rows {
			out.row(view.HistoryRecord(h)...)
		}
		return out.flush()
	})
	s.finishCSV(w, r, out, err)
}

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
	p, err := s.billing.Reports.ReadExportPeriod(q.Get("from"), q.Get("to"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := "creditkit-" + company + "-" + p.From.Format("2006-01-02") + "-to-" + p.To.Format("2006-01-02") + ".csv"
	out := newCSVStream(w, name, view.ExportColumns)
	err = s.billing.Reports.CompanyExport(r.Context(), userID(r.Context()), company, p, func(rows []billing.ExportRow) error {
		for _, x := range rows {
			out.row(view.ExportRecord(x)...)
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
