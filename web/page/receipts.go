package page

import (
	"context"
	"io"

	"github.com/a-h/templ"

	"github.com/creditkit/creditkit/web/component"
)

// receiptRows are the member's receipts table's rows, as Experience shows
// them. They are written in Go, not templ: templ turns every attribute
// value into a string concatenation plus templ.JoinStringErrs (a boxing and
// a copy through fmt.Sprint), some 130 allocations for the ten rows of
// every load of the app's most frequent page. Text and attribute values are
// escaped as templ escapes them (templ.EscapeString);
// TestReceiptRowsAsTemplWroteThem holds the markup.
//
// A row carries one test id, the purchase's; its cells are read by place
// (when, package, credits, paid, status). Each row used to carry four, the
// purchase id written into each: 1.2 KB of the ~9 KB page the member loads
// most, sent on every load for tests alone.
type receiptRows []ReceiptRow

func (rows receiptRows) Render(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, r := range rows {
		id, when := templ.EscapeString(r.ID), templ.EscapeString(r.When)
		err := component.WriteStrings(w, `<tr data-testid="receipt-`, id, `"><td class="muted hide-narrow">`, when,
			`</td><td>`, templ.EscapeString(r.Package), `<span class="muted small block show-narrow">`, when,
			`</span></td><td class="num">`, templ.EscapeString(r.Credits))
		if err == nil {
			err = smallLine(w, r.TakenBack)
		}
		if err == nil {
			err = component.WriteStrings(w, `</td><td class="num">`, templ.EscapeString(r.Amount))
		}
		if err == nil {
			err = smallLine(w, r.Note)
		}
		if err == nil {
			err = component.WriteStrings(w, `</td><td>`)
		}
		if err == nil {
			err = r.Status.Render(ctx, w)
		}
		if err == nil {
			err = component.WriteStrings(w, `</td></tr>`)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// smallLine writes a cell's second, muted line (what a refund took back, a
// note on the amount), or nothing when text is empty.
func smallLine(w io.Writer, text string) error {
	if text == "" {
		return nil
	}
	return component.WriteStrings(w, ` <span class="muted small block">`, templ.EscapeString(text), `</span>`)
}
