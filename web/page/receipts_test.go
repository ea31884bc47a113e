package page

import (
	"context"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/web/component"
)

// TestReceiptRowsAsTemplWroteThem: the rows written in Go are byte for byte
// what the receipts loop in experience.templ wrote (captured from it), less
// the cells' test ids, which the row's now stands for: a plain paid row, one
// with credits taken back and a refund, and one whose every value needs
// escaping, with the plain badge of an unknown tone.
func TestReceiptRowsAsTemplWroteThem(t *testing.T) {
	rows := receiptRows{
		{ID: "pur_0000000000000000", When: "Nov 22, 10:41 UTC", Package: "starter", Credits: "+100", Amount: "$4.99",
			Status: component.BadgeProps{Label: "Paid", Tone: "ok"}},
		{ID: "pur_0000000000000003", When: "Nov 22, 10:41 UTC", Package: "starter", Credits: "+100", Amount: "$4.99",
			TakenBack: "−100 taken back", Note: "$4.99 refunded",
			Status: component.BadgeProps{Label: "Paid", Tone: "ok"}},
		{ID: `pur_"<&>'x`, When: `Nov <b>`, Package: `pkg & "co"`, Credits: "—", Amount: "—", Note: `$4.99, <not> "charged"`,
			Status: component.BadgeProps{Label: "Not <paid>", Tone: ""}},
		{ID: "pur_0000000000000006", When: "Nov 22, 10:41 UTC", Package: "starter", Credits: "+100", Amount: "$4.99",
			TakenBack: `−1 <taken> & "back"`,
			Status:    component.BadgeProps{Label: "Paid", Tone: "warn"}},
	}
	want := `<tr data-testid="receipt-pur_0000000000000000"><td class="muted hide-narrow">Nov 22, 10:41 UTC</td><td>starter<span class="muted small block show-narrow">Nov 22, 10:41 UTC</span></td><td class="num">+100</td><td class="num">$4.99</td><td><span class="badge ok">Paid</span></td></tr>` +
		`<tr data-testid="receipt-pur_0000000000000003"><td class="muted hide-narrow">Nov 22, 10:41 UTC</td><td>starter<span class="muted small block show-narrow">Nov 22, 10:41 UTC</span></td><td class="num">+100 <span class="muted small block">−100 taken back</span></td><td class="num">$4.99 <span class="muted small block">$4.99 refunded</span></td><td><span class="badge ok">Paid</span></td></tr>` +
		`<tr data-testid="receipt-pur_&#34;&lt;&amp;&gt;&#39;x"><td class="muted hide-narrow">Nov &lt;b&gt;</td><td>pkg &amp; &#34;co&#34;<span class="muted small block show-narrow">Nov &lt;b&gt;</span></td><td class="num">—</td><td class="num">— <span class="muted small block">$4.99, &lt;not&gt; &#34;charged&#34;</span></td><td><span class="badge">Not &lt;paid&gt;</span></td></tr>` +
		`<tr data-testid="receipt-pur_0000000000000006"><td class="muted hide-narrow">Nov 22, 10:41 UTC</td><td>starter<span class="muted small block show-narrow">Nov 22, 10:41 UTC</span></td><td class="num">+100 <span class="muted small block">−1 &lt;taken&gt; &amp; &#34;back&#34;</span></td><td class="num">$4.99</td><td><span class="badge warn">Paid</span></td></tr>`
	var b strings.Builder
	if err := rows.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != want {
		t.Errorf("rows:\n%s\nwant\n%s", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rows.Render(ctx, &b); err == nil {
		t.Error("rendered for a request that ended, as templ's components do not")
	}
}
