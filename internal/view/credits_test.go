package view

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/page"
)

// TestReceiptRowSaysWhatReachedTheWallet: each state a member's purchase
// can be in, as its receipt row words it. A payment the app refused makes
// the row say so, whatever else was tried, until a payment pays it.
func TestReceiptRowSaysWhatReachedTheWallet(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 5, 0, 0, time.UTC)
	base := ledger.Receipt{ID: "pur_1", PackageID: "starter", Credits: 100, Price: 499, Currency: "usd", CreatedAt: at}
	with := func(f func(*ledger.Receipt)) ledger.Receipt { r := base; f(&r); return r }
	row := func(credits, takenBack, amount, note, label, tone string) page.ReceiptRow {
		return page.ReceiptRow{ID: "pur_1", When: "Dec 7, 09:05 UTC", Package: "starter", Credits: credits, TakenBack: takenBack,
			Amount: amount, Note: note, Status: component.BadgeProps{Label: label, Tone: tone}}
	}
	for _, tt := range []struct {
		name string
		r    ledger.Receipt
		want page.ReceiptRow
	}{
		{"paid", with(func(r *ledger.Receipt) { r.Status, r.PaidAmount = ledger.PurchasePaid, 499 }),
			row("+100", "", "$4.99", "", "Paid", "ok")},
		{"paid above the price", with(func(r *ledger.Receipt) { r.Status, r.PaidAmount = ledger.PurchasePaid, 600 }),
			row("+100", "", "$6.00", "", "Paid", "ok")},
		{"partly refunded", with(func(r *ledger.Receipt) {
			r.Status, r.PaidAmount, r.RefundedAmount, r.RefundedCredits = ledger.PurchasePaid, 499, 200, 41
		}), row("+100", "−41 taken back", "$4.99", "$2.00 refunded", "Partly refunded", "warn")},
		{"refunded", with(func(r *ledger.Receipt) {
			r.Status, r.PaidAmount, r.RefundedAmount, r.RefundedCredits = ledger.PurchasePaid, 499, 499, 100
		}), row("+100", "−100 taken back", "$4.99", "$4.99 refunded", "Refunded", "warn")},
		{"paid by a payment after one refused", with(func(r *ledger.Receipt) { r.Status, r.PaidAmount, r.Refused = ledger.PurchasePaid, 499, true }),
			row("+100", "", "$4.99", "", "Paid", "ok")},
		{"confirming", with(func(r *ledger.Receipt) { r.Status = ledger.PurchaseProcessing }),
			row("—", "", "—", "$4.99, confirming", "Processing", "accent")},
		{"declined", with(func(r *ledger.Receipt) { r.Status = ledger.PurchaseFailed }),
			row("—", "", "—", "$4.99, not charged", "Failed", "danger")},
		{"never paid", with(func(r *ledger.Receipt) { r.Status = ledger.PurchasePending }),
			row("—", "", "—", "$4.99, no payment credited", "Not paid", "")},
		{"refused", with(func(r *ledger.Receipt) { r.Status, r.Refused = ledger.PurchasePending, true }),
			row("—", "", "—", "Payment not credited: see your Whop receipts", "Not credited", "danger")},
		{"refused after a decline", with(func(r *ledger.Receipt) { r.Status, r.Refused = ledger.PurchaseFailed, true }),
			row("—", "", "—", "Payment not credited: see your Whop receipts", "Not credited", "danger")},
	} {
		if got := ReceiptRow(tt.r); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}
