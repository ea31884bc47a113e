package view

import (
	"reflect"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/layout"
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
		{"charged back", with(func(r *ledger.Receipt) {
			r.Status, r.PaidAmount, r.RefundedAmount, r.RefundedCredits, r.ChargedBack = ledger.PurchasePaid, 499, 499, 100, 499
		}), row("+100", "−100 taken back", "$4.99", "$4.99 charged back", "Charged back", "danger")},
		{"refunded in part, then charged back", with(func(r *ledger.Receipt) {
			r.Credits, r.Status, r.PaidAmount, r.RefundedAmount, r.RefundedCredits, r.ChargedBack = 600, ledger.PurchasePaid, 2499, 2499, 600, 1499
		}), row("+600", "−600 taken back", "$24.99", "$10.00 refunded, $14.99 charged back", "Charged back", "danger")},
		{"charged back in part", with(func(r *ledger.Receipt) {
			r.Status, r.PaidAmount, r.RefundedAmount, r.RefundedCredits, r.ChargedBack = ledger.PurchasePaid, 499, 200, 41, 200
		}), row("+100", "−41 taken back", "$4.99", "$2.00 charged back", "Partly charged back", "danger")},
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

// TestReturnSaysWhereThePaymentStands: the return page for each way a
// checkout can end, every field. While confirming, the page carries what it
// says once its checks run out: that Whop is slow when Whop shows a payment
// of the buyer's (or could not be asked), or that there is no payment yet.
func TestReturnSaysWhereThePaymentStands(t *testing.T) {
	pur := ledger.Purchase{ID: "pur_1", ExperienceID: "exp_1", PackageID: "starter", Credits: 100, Price: 499, Currency: "usd"}
	paid := pur
	paid.Status, paid.PaymentID = ledger.PurchasePaid, "pay_1"
	receipt := &page.ReturnReceipt{Package: "starter", Credits: "100", Amount: "$4.99"}
	paidReceipt := &page.ReturnReceipt{Package: "starter", Credits: "100", Amount: "$4.99", PaymentID: "pay_1"}
	balance := component.BalanceProps{Credits: "250"}
	const slow = "Whop is taking longer than usual. Your credits will arrive in your wallet as soon as the payment is confirmed; you can safely leave this page."
	confirming := func(slowTitle, slowMessage string) page.ReturnView {
		return page.ReturnView{Status: "processing", Title: "Confirming your payment…",
			Message: "Whop is confirming your payment. This page updates by itself.", Receipt: receipt, Balance: balance,
			BackURL: "/experiences/exp_1", BackLabel: "Back to credits", Polls: 12, SlowTitle: slowTitle, SlowMessage: slowMessage}
	}
	for _, tt := range []struct {
		name string
		res  billing.ReturnResult
		want page.ReturnView
	}{
		{"paid", billing.ReturnResult{Purchase: paid, Status: billing.ReturnPaid, Balance: 250},
			page.ReturnView{Status: "paid", Title: "Payment received", Message: "100 credits are in your wallet.",
				Receipt: paidReceipt, Balance: balance, ShowBalance: true, BackURL: "/experiences/exp_1", BackLabel: "Back to credits"}},
		{"declined", billing.ReturnResult{Purchase: pur, Status: billing.ReturnFailed, Balance: 250, Reason: "Your card was declined."},
			page.ReturnView{Status: "failed", Title: "The payment did not go through",
				Message: "Your card was declined. No credits were added and your balance is unchanged.",
				Receipt: receipt, Balance: balance, ShowBalance: true, BackURL: "/experiences/exp_1", BackLabel: "Back to credits to try again"}},
		{"refused", billing.ReturnResult{Purchase: pur, Status: billing.ReturnRefused, Balance: 250,
			Reason: "Whop's payment does not match this purchase, so no credits were added."},
			page.ReturnView{Status: "refused", Title: "Payment not credited",
				Message: "Whop's payment does not match this purchase, so no credits were added. " + RefusedAdvice,
				Receipt: receipt, Balance: balance, ShowBalance: true, BackURL: "/experiences/exp_1", BackLabel: "Back to credits"}},
		{"a payment of theirs still pending", billing.ReturnResult{Purchase: pur, Status: billing.ReturnProcessing, Balance: 250, Attempts: 1},
			confirming("Still waiting for Whop", slow)},
		{"Whop not answering", billing.ReturnResult{Purchase: pur, Status: billing.ReturnProcessing, Balance: 250, Unchecked: true},
			confirming("Still waiting for Whop", slow)},
		{"no payment of theirs", billing.ReturnResult{Purchase: pur, Status: billing.ReturnProcessing, Balance: 250},
			confirming("No payment yet", NoPaymentYet)},
	} {
		got := Return(layout.Props{}, tt.res)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}
