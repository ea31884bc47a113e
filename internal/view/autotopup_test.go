package view

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/web/page"
)

// TestTopUpRow: each top-up status reads as what happened to the member's
// money; a refused one says Whop charged them and where to look.
func TestTopUpRow(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 5, 0, 0, time.UTC)
	rec := func(status, why string) billing.TopUpRecord {
		return billing.TopUpRecord{ID: "tup_1", PurchaseID: "pur_1", Credits: 100, Price: 499, Currency: "usd",
			Status: status, FailureReason: why, CreatedAt: at}
	}
	row := func(status, detail, tone string) page.TopUpRow {
		return page.TopUpRow{ID: "tup_1", When: "Dec 7, 09:05 UTC", What: "100 credits for $4.99", Status: status,
			Detail: detail, Tone: tone}
	}
	for _, tt := range []struct {
		in   billing.TopUpRecord
		want page.TopUpRow
	}{
		{rec("scheduled", ""), row("scheduled", "", "accent")},
		{rec("charging", ""), row("charging", "", "accent")},
		{rec("paid", ""), row("paid", "", "ok")},
		{rec("declined", "Your card was declined."), row("declined", "Your card was declined.", "danger")},
		{rec("refused", "payment amount 100 is below the price 499"), row("not credited",
			"Whop charged you, but the payment could not be credited (payment amount 100 is below the price 499): "+
				"see your Whop receipts; the seller can refund it.", "danger")},
		{rec("canceled", ""), row("canceled", "", "")},
	} {
		if got := TopUpRow(tt.in); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.in.Status, got, tt.want)
		}
	}
}
