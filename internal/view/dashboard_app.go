package view

import (
	"strconv"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/web/page"
)

// appSection formats the owner's view of the whole app.
func appSection(d billing.Dashboard) page.AppSection {
	o := d.Overview
	if o == nil {
		return page.AppSection{}
	}
	cur := string(d.Currency)
	sh := o.Shares
	// Taken, refunded and disputed are the summary above, which covers the
	// whole app on this page; these are what the owner pays out of it.
	a := page.AppSection{Show: true, Window: "Last " + strconv.Itoa(billing.RevenueDays) + " days, UTC, every installing company"}
	a.Totals = []page.Stat{
		{Label: "Shares paid", Value: FormatMoney(sh.Paid, cur), Detail: "to creators, for these sales", TestID: "app-shares-paid"},
		{Label: "Shares pending", Value: FormatMoney(sh.Pending, cur), Detail: "retried until Whop pays", TestID: "app-shares-pending"},
		{Label: "Owed back", Value: FormatMoney(sh.Clawback, cur), Detail: "shares paid on sales refunded since; not moved automatically", TestID: "app-owed-back"},
		{Label: "Net to you", Value: FormatMoney(o.Net, cur), Detail: "taken − refunds − shares, before Whop's fees", TestID: "app-net"},
	}
	for _, c := range o.Companies {
		row := page.CompanyRow{ID: c.CompanyID, Title: c.Title, Experiences: FormatCount(c.Experiences),
			Sales: FormatCount(c.Sales), Taken: FormatMoney(c.Gross, cur), SharePaid: FormatMoney(c.SharePaid, cur),
			LastSale: FormatWhen(c.LastSale), TestID: "company-" + c.CompanyID}
		if row.Title == "" {
			row.Title = c.CompanyID
		}
		if c.CompanyID == d.CompanyID {
			row.Title += " (you)"
			row.SharePaid = "—"
		}
		a.Companies = append(a.Companies, row)
	}
	a.Books = booksLine(o.Books)
	return a
}

// booksLine is the comparison with Whop in words, with every payment found
// on one side only.
func booksLine(b billing.BooksCheck) page.BooksLine {
	l := page.BooksLine{Tone: "ok", Text: b.String()}
	switch {
	case b.Err != "":
		l.Tone = "error"
		l.Text = "Whop could not be read just now, so our books were not compared with it. The figures above are our own and complete."
		return l
	case !b.Clean():
		l.Tone = "warn"
	}
	if b.Incomplete {
		l.Text += " Whop listed more payments than one page load compares; the ones beyond were not checked."
	}
	for _, d := range b.WhopOnly {
		detail := "our purchase " + d.PurchaseID + " is " + d.State + ": the webhook has not arrived and the reconciler has not run since"
		switch {
		case d.Refused != "":
			detail = "we refused it for purchase " + d.PurchaseID + " (" + d.Refused + ") and credited nothing: look it up, and refund it if it should not stand"
		case d.State == "unknown":
			detail = "Whop names purchase " + d.PurchaseID + ", which our books do not have"
		}
		l.Diffs = append(l.Diffs, page.BooksDiff{PaymentID: d.PaymentID, Side: "at Whop only",
			Amount: FormatMoney(d.Amount, string(d.Currency)), When: FormatWhen(d.When), Detail: detail})
	}
	for _, d := range b.OursOnly {
		l.Diffs = append(l.Diffs, page.BooksDiff{PaymentID: d.PaymentID, Side: "in our books only",
			Amount: FormatMoney(d.Amount, string(d.Currency)), When: FormatWhen(d.When),
			Detail: "purchase " + d.PurchaseID + " was credited, but Whop does not list this payment as paid"})
	}
	return l
}

func companies(n int) string {
	if n == 1 {
		return "1 company"
	}
	return FormatCount(int64(n)) + " companies"
}
