package view

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// TestGrantedLine: what grants hold of a balance, and when the next of
// them expire; a balance a refund took below what grants hold does not
// "include" them, and is told what it would be without them.
func TestGrantedLine(t *testing.T) {
	expiry := time.Date(2026, 12, 9, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		balance int64
		g       ledger.GrantedCredits
		want    string
	}{
		{"no grants", 120, ledger.GrantedCredits{}, ""},
		{"all spent", 0, ledger.GrantedCredits{Credits: 0}, ""},
		{"one that never expires", 150, ledger.GrantedCredits{Credits: 1},
			"Includes 1 granted credit, spent before the ones you bought."},
		{"part of the balance, expiring", 150, ledger.GrantedCredits{Credits: 50, NextExpiry: expiry, NextExpiring: 20},
			"Includes 50 granted credits, spent before the ones you bought; 20 expire Dec 9, 2026, 10:00 UTC."},
		{"all of the balance", 50, ledger.GrantedCredits{Credits: 50, NextExpiry: expiry, NextExpiring: 50},
			"Includes 50 granted credits, spent before the ones you bought; 50 expire Dec 9, 2026, 10:00 UTC."},
		{"a refund took the rest below zero", -50, ledger.GrantedCredits{Credits: 50, NextExpiry: expiry, NextExpiring: 50},
			"Counts 50 granted credits: a refund or chargeback took back more credits than you had left, so without them it would be −100; 50 expire Dec 9, 2026, 10:00 UTC."},
		{"above zero but below the grants", 1_000, ledger.GrantedCredits{Credits: 1_200},
			"Counts 1,200 granted credits: a refund or chargeback took back more credits than you had left, so without them it would be −200."},
	} {
		if got := GrantedLine(tt.balance, tt.g); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestPremiumTakeBacksSayWhatTheyTookBack: a refund entry that took back a
// premium period's credits says so, with the period, apart from a
// purchase's; so does its row of the member's export.
func TestPremiumTakeBacksSayWhatTheyTookBack(t *testing.T) {
	period := time.Date(2026, 11, 8, 1, 15, 0, 0, time.UTC)
	for _, tt := range []struct {
		name         string
		e            ledger.ActivityEntry
		what, detail string
	}{
		{"a refund of premium", ledger.ActivityEntry{Kind: ledger.KindRefund, Amount: -50, PeriodStart: period},
			"Premium credits taken back: the payment was refunded", "For the period from Nov 8, 2026"},
		{"a chargeback of premium", ledger.ActivityEntry{Kind: ledger.KindRefund, Amount: -50, PeriodStart: period, DisputeLost: true},
			"Premium credits taken back: the payment was charged back",
			"For the period from Nov 8, 2026. The payment was disputed and the dispute went to the buyer."},
		{"a refund of a purchase", ledger.ActivityEntry{Kind: ledger.KindRefund, Amount: -50, PackageID: "starter"},
			"Taken back: the starter purchase was refunded", ""},
	} {
		if what, detail := DescribeEntry(tt.e); what != tt.what || detail != tt.detail {
			t.Errorf("%s: %q, %q\nwant %q, %q", tt.name, what, detail, tt.what, tt.detail)
		}
	}
	for _, tt := range []struct {
		h    ledger.HistoryRow
		want string
	}{
		{ledger.HistoryRow{Kind: ledger.KindRefund, Reference: "mem_1"}, "premium_refund"},
		{ledger.HistoryRow{Kind: ledger.KindRefund, Reference: "mem_1", DisputeLost: true}, "premium_chargeback"},
		{ledger.HistoryRow{Kind: ledger.KindRefund, Reference: "pur_1", DisputeLost: true}, "chargeback"},
		{ledger.HistoryRow{Kind: ledger.KindRefund, Reference: "pur_1"}, "refund"},
		{ledger.HistoryRow{Kind: ledger.KindGrant, Reference: "mem_1"}, "premium_grant"},
	} {
		if got := HistoryType(tt.h); got != tt.want {
			t.Errorf("HistoryType(%+v) = %q, want %q", tt.h, got, tt.want)
		}
	}
}
