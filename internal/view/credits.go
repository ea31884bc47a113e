package view

import (
	"net/url"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
)

// ReceiptRow shows a purchase as what reached the wallet: a purchase is
// credited only once paid, and a refund (or a lost dispute) takes back
// part or all of that, which the row shows beside it. Its badge has no test
// id of its own: the row's names the purchase.
func ReceiptRow(p ledger.Receipt) page.ReceiptRow {
	r := page.ReceiptRow{ID: p.ID, When: FormatWhen(p.CreatedAt), Package: p.PackageID, Credits: "—", Amount: "—",
		Status: purchaseBadge(p, "")}
	switch {
	case p.Status == ledger.PurchasePaid:
		r.Credits, r.Amount = "+"+FormatCount(p.Credits), FormatMoney(p.PaidAmount, p.Currency)
		if p.RefundedCredits > 0 {
			r.TakenBack = "−" + FormatCount(p.RefundedCredits) + " taken back"
		}
		r.Note = reversedNote(p)
	case p.Refused:
		// A payment paid to Whop that the app refused (the return page
		// and the modal say why): the member is told where to look
		// before paying again, as they are there (RefusedAdvice). No
		// amount: the payment's need not be the price (a short one is
		// refused for that).
		r.Note = "Payment not credited: see your Whop receipts"
	case p.Status == ledger.PurchaseProcessing:
		r.Note = FormatMoney(p.Price, p.Currency) + ", confirming"
	case p.Status == ledger.PurchaseFailed:
		r.Note = FormatMoney(p.Price, p.Currency) + ", not charged"
	default:
		// No payment paid it, nor was one refused: a checkout closed.
		r.Note = FormatMoney(p.Price, p.Currency) + ", no payment credited"
	}
	return r
}

// Return words a purchase's return for its buyer.
func Return(l layout.Props, res billing.ReturnResult) page.ReturnView {
	p := res.Purchase
	v := page.ReturnView{
		Layout:  l,
		Status:  string(res.Status),
		Balance: component.BalanceProps{Credits: FormatCount(res.Balance), Negative: res.Balance < 0},
		Receipt: &page.ReturnReceipt{
			Package: p.PackageID, Credits: FormatCount(p.Credits), Amount: FormatMoney(p.Price, p.Currency),
			PaymentID: p.PaymentID,
		},
		ShowBalance: res.Status != billing.ReturnProcessing,
		BackURL:     "/experiences/" + url.PathEscape(p.ExperienceID),
		BackLabel:   "Back to credits",
	}
	switch res.Status {
	case billing.ReturnPaid:
		v.Title = "Payment received"
		v.Message = FormatCount(p.Credits) + " credits are in your wallet."
	case billing.ReturnFailed:
		v.Title = "The payment did not go through"
		v.Message = sentence(res.Reason, "The payment failed.") + " No credits were added and your balance is unchanged."
		v.BackLabel = "Back to credits to try again"
	case billing.ReturnRefused:
		v.Title = "Payment not credited"
		v.Message = sentence(res.Reason, "Whop's payment does not match this purchase, so no credits were added.") +
			" " + RefusedAdvice
	default:
		v.Title = "Confirming your payment…"
		v.Message = "Whop is confirming your payment. This page updates by itself."
		v.Polls = returnPolls
		v.SlowTitle = "Still waiting for Whop"
		v.SlowMessage = "Whop is taking longer than usual. Your credits will arrive in your wallet as soon as the payment is confirmed; you can safely leave this page."
		if res.Attempts == 0 && !res.Unchecked {
			// Whop answered, with no payment of the buyer's for the
			// checkout. The page re-checks itself and shows this only
			// after its polls, long past Whop's delay for a new payment,
			// so by then it most likely means they left without paying.
			v.SlowTitle, v.SlowMessage = "No payment yet", NoPaymentYet
		}
	}
	return v
}

// RefusedAdvice follows the reason a paid payment was refused: someone may
// have been charged, so the buyer is told to look before paying again, not
// invited to. The modal's reply carries it too (ModalReply.Advice).
const RefusedAdvice = "If Whop charged you, check your Whop receipts before paying again: the seller sees the payment in their books."

// NoPaymentYet is the return page's word, once it has re-checked itself
// for a while, when Whop still shows no payment of the buyer's.
const NoPaymentYet = "Whop shows no payment of yours for this purchase. If you left Whop's checkout without paying, " +
	"nothing was charged and you can buy again. If you did pay, your credits will arrive as soon as Whop confirms it; " +
	"you can safely leave this page."

// returnPolls is how many times a "still processing" return page re-checks
// itself (about 1.5 s apart) before it says the credits will follow.
const returnPolls = 12

// Experience is a member's credits page: balance, packages on sale, what
// credits buy, premium and their receipts.
func Experience(l layout.Props, expID string, wallet billing.Wallet, pkgs []billing.Package, cur money.Currency) page.ExperienceView {
	v := page.ExperienceView{
		Layout:       l,
		ExperienceID: expID,
		Balance:      component.BalanceProps{Credits: FormatCount(wallet.Balance), Negative: wallet.Balance < 0},
		Premium:      PremiumCard(wallet.Premium, expID),
		ActivityURL:  ExperienceURL(expID) + "/activity",
		// Sized up front: appending ten receipts one by one would copy
		// the growing slice four times on every load of the page.
		Packages: make([]page.PackageCard, 0, len(pkgs)),
		Items:    make([]page.ItemRow, 0, len(wallet.Items)),
		Receipts: make([]page.ReceiptRow, 0, len(wallet.Receipts)),
	}
	for _, p := range pkgs {
		v.Packages = append(v.Packages, page.PackageCard{
			ID: p.ID, Credits: FormatCount(p.Credits), Price: FormatMoney(p.Price, string(cur)),
			PerUnit: PerCredit(p.Price, p.Credits, cur),
		})
	}
	for _, it := range wallet.Items {
		v.Items = append(v.Items, page.ItemRow{ID: it.ID, Name: it.Title, Description: it.Description, Cost: FormatCount(it.Cost) + " credits"})
	}
	for _, p := range wallet.Receipts {
		v.Receipts = append(v.Receipts, ReceiptRow(p))
	}
	return v
}
