package component_test

import (
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/creditkit/creditkit/web/component"
)

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTextEscapesAsTemplDoes: @component.Text(s) writes what { s } writes,
// markup and quotes escaped, everything else as it is.
func TestTextEscapesAsTemplDoes(t *testing.T) {
	for _, s := range []string{"", "Paid", "Nov 22, 10:41 UTC", "5.0¢ a credit", "−100 taken back",
		`<script>alert("x")</script>`, `Tom & Jerry's "pack"`, "a\x00b"} {
		if got, want := render(t, component.Text(s)), templ.EscapeString(s); got != want {
			t.Errorf("Text(%q) = %q, want %q", s, got, want)
		}
	}
	if got := render(t, component.Text(`<b onclick='x'>&</b>`)); got != "&lt;b onclick=&#39;x&#39;&gt;&amp;&lt;/b&gt;" {
		t.Errorf("markup not escaped: %q", got)
	}
}

// TestBadgeClasses: each documented tone gets its class, any other tone
// the plain badge; the label and test id are escaped, and a badge without
// a test id has no such attribute.
func TestBadgeClasses(t *testing.T) {
	for _, tt := range []struct{ tone, class string }{
		{"", "badge"}, {"ok", "badge ok"}, {"warn", "badge warn"}, {"danger", "badge danger"},
		{"accent", "badge accent"}, {"bogus", "badge"}, {`ok" onclick="x`, "badge"},
	} {
		got := render(t, component.Badge(component.BadgeProps{Label: "Paid <now>", Tone: tt.tone, TestID: `status-"1"`}))
		want := `<span class="` + tt.class + `" data-testid="status-&#34;1&#34;">Paid &lt;now&gt;</span>`
		if got != want {
			t.Errorf("tone %q: %s, want %s", tt.tone, got, want)
		}
	}
	// No test id: no empty attribute either (a receipt row's badge).
	if got := render(t, component.Badge(component.BadgeProps{Label: "Paid", Tone: "ok"})); got != `<span class="badge ok">Paid</span>` {
		t.Errorf("badge without a test id: %s", got)
	}
}

// TestBalance: a negative balance is marked so; the figure is escaped.
func TestBalance(t *testing.T) {
	for _, tt := range []struct {
		p     component.BalanceProps
		class string
	}{
		{component.BalanceProps{Credits: "12,500"}, "balance"},
		{component.BalanceProps{Credits: "-5", Negative: true}, "balance negative"},
	} {
		got := render(t, component.Balance(tt.p))
		want := `<div class="` + tt.class + `"><span class="value" data-testid="balance">` + tt.p.Credits +
			`</span> <span class="muted">credits</span></div>`
		if got != want {
			t.Errorf("%+v: %s, want %s", tt.p, got, want)
		}
	}
}
