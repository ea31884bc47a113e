package component

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// Text is a string shown as HTML text, escaped exactly as templ escapes
// { s } (templ.EscapeString). templ turns each { s } into
// templ.JoinStringErrs, which boxes s and copies it through fmt.Sprint:
// two allocations and a trip through fmt for every value. The member's
// page shows about sixty short values on each of its many loads, so its
// text goes through @component.Text(s), which writes s escaped and
// nothing else. Attribute values still use { s }: templ allows no
// component there.
type Text string

// Render writes t, escaped.
func (t Text) Render(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, templ.EscapeString(string(t)))
	return err
}
