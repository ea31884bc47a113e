package view

import (
	"strconv"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
)

// AutoTopUpData is what the member's auto top-up page shows: the saved card
// and rule, what they asked to be told, their latest notifications, the
// balance and the packages a rule may buy.
type AutoTopUpData struct {
	Settings billing.AutoTopUp
	Prefs    billing.NoticePrefs
	Notices  []billing.Notice
	Balance  int64
	Packages []billing.Package
	Currency money.Currency
}

// AutoTopUp is the auto top-up page's view; form, when set, is a rule form
// to show again as typed.
func AutoTopUp(l layout.Props, exp string, d AutoTopUpData, form *page.TopUpRuleForm) page.AutoTopUpView {
	self := ExperienceURL(exp) + "/autotopup"
	v := page.AutoTopUpView{Layout: l, ExperienceID: exp, BackURL: ExperienceURL(exp),
		Balance:    component.BalanceProps{Credits: FormatCount(d.Balance), Negative: d.Balance < 0},
		RuleAction: self + "/rule", RemoveAction: self + "/remove", AlertsAction: self + "/alerts",
		Alerts: page.AlertsForm{Credited: d.Prefs.Credited, LowBalance: d.Prefs.LowBalance, TopUpFailed: d.Prefs.TopUpFailed,
			GrantExpiring: d.Prefs.GrantExpiring}}
	if d.Prefs.LowBalanceBelow > 0 {
		v.Alerts.LowBalanceBelow = strconv.FormatInt(d.Prefs.LowBalanceBelow, 10)
	}
	if d.Settings.HasMethod {
		v.Card = d.Settings.CardBrand
		if d.Settings.CardLast4 != "" {
			v.Card += " •••• " + d.Settings.CardLast4
		}
	}
	cur := string(d.Currency)
	f := page.TopUpRuleForm{Threshold: "50", DailyLimit: "3"}
	if rule := d.Settings.Rule; rule != nil {
		v.Rule = "When a spend takes your balance below " + Plural(rule.Threshold, "credit") + ", buy " +
			Plural(rule.Credits, "credit") + " for " + FormatMoney(rule.Price, rule.Currency) + ", at most " +
			strconv.Itoa(rule.DailyLimit) + " a UTC day (declined ones count)."
		if !rule.Enabled {
			v.RuleOff = rule.DisabledReason
		}
		f = page.TopUpRuleForm{Threshold: strconv.FormatInt(rule.Threshold, 10), Package: rule.PackageID,
			DailyLimit: strconv.Itoa(rule.DailyLimit)}
	}
	if form != nil {
		f = *form
	}
	for _, p := range d.Packages {
		f.Packages = append(f.Packages, page.PackageOption{ID: p.ID,
			Label: Plural(p.Credits, "credit") + " · " + FormatMoney(p.Price, cur)})
	}
	v.Form = f
	for _, t := range d.Settings.Recent {
		v.TopUps = append(v.TopUps, TopUpRow(t))
	}
	for _, n := range d.Notices {
		v.Notices = append(v.Notices, page.NoticeRow{When: FormatWhen(n.CreatedAt), Title: n.Title, Content: n.Content, Status: n.Status})
	}
	return v
}

// TopUpRow is one of the member's top-ups. A refused one was charged by
// Whop but not credited, so it says so and where the money is, rather than
// reading as a decline to shrug off.
func TopUpRow(t billing.TopUpRecord) page.TopUpRow {
	row := page.TopUpRow{ID: t.ID, When: FormatWhen(t.CreatedAt), Status: t.Status, Detail: t.FailureReason,
		What: Plural(t.Credits, "credit") + " for " + FormatMoney(t.Price, t.Currency)}
	switch ledger.TopUpStatus(t.Status) {
	case ledger.TopUpPaid:
		row.Tone = "ok"
	case ledger.TopUpDeclined:
		row.Tone = "danger"
	case ledger.TopUpRefused:
		row.Status, row.Tone = "not credited", "danger"
		row.Detail = "Whop charged you, but the payment could not be credited (" + t.FailureReason +
			"): see your Whop receipts; the seller can refund it."
	case ledger.TopUpScheduled, ledger.TopUpCharging:
		row.Tone = "accent"
	}
	return row
}

// TopUpSetupReply is POST /api/topup/setup: the setup-mode checkout for the
// purchase modal, and Whop's hosted page for it.
type TopUpSetupReply struct {
	ID          string `json:"id"`
	PurchaseURL string `json:"purchase_url"`
}

// SavedCardReply is POST /api/topup/method: the card now saved, and whether
// the rule is on (saving a card turns one switched off by declines on).
type SavedCardReply struct {
	CardBrand   string `json:"card_brand"`
	CardLast4   string `json:"card_last4"`
	RuleEnabled bool   `json:"rule_enabled"`
}

// SavedCard is the reply for a card just saved.
func SavedCard(a billing.AutoTopUp) SavedCardReply {
	return SavedCardReply{CardBrand: a.CardBrand, CardLast4: a.CardLast4, RuleEnabled: a.Rule != nil && a.Rule.Enabled}
}
