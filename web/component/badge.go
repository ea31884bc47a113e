package component

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// Badge is a short status label; a tone other than the four shows the
// plain badge. It is written in Go, not templ: templ turns the test id, an
// attribute value, into templ.JoinStringErrs (a boxing and a copy through
// fmt.Sprint), and the member's page shows ten badges on every load. Each
// tone's class is spelled out, so no class builder runs either.
func Badge(p BadgeProps) templ.Component { return p }

// Render writes the badge, its test id (none when TestID is empty: a badge
// in a row that has one) and label escaped as templ escapes them
// (templ.EscapeString).
func (p BadgeProps) Render(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var open string
	switch p.Tone {
	case "ok":
		open = `<span class="badge ok"`
	case "warn":
		open = `<span class="badge warn"`
	case "danger":
		open = `<span class="badge danger"`
	case "accent":
		open = `<span class="badge accent"`
	default:
		open = `<span class="badge"`
	}
	if p.TestID == "" {
		return WriteStrings(w, open, `>`, templ.EscapeString(p.Label), `</span>`)
	}
	return WriteStrings(w, open, ` data-testid="`, templ.EscapeString(p.TestID), `">`, templ.EscapeString(p.Label), `</span>`)
}

// WriteStrings writes ss in order, stopping at the first error: for the few
// components written in Go rather than templ (Badge, the member's receipt
// rows), whose parts are constant markup and values already escaped.
func WriteStrings(w io.Writer, ss ...string) error {
	for _, s := range ss {
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	return nil
}
