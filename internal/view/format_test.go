package view

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// TestFormatWhen: a moment in UTC whatever its zone, the day without a
// leading zero; nothing for the zero time.
func TestFormatWhen(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, ""},
		{time.Date(2026, 11, 22, 10, 41, 59, 0, time.UTC), "Nov 22, 10:41 UTC"},
		{time.Date(2026, 3, 1, 0, 30, 0, 0, paris), "Feb 28, 23:30 UTC"},
		{time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), "Dec 31, 23:59 UTC"},
	} {
		if got := FormatWhen(tt.t); got != tt.want {
			t.Errorf("FormatWhen(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

// TestFormatCount: thousands grouped, a negative count with a true minus
// sign like SignedCount's, so a balance a refund took below zero reads the
// same as the change beside it; Plural's one and many.
func TestFormatCount(t *testing.T) {
	for _, tt := range []struct {
		n                   int64
		count, signed, plur string
	}{
		{0, "0", "+0", "0 credits"},
		{1, "1", "+1", "1 credit"},
		{-1, "−1", "−1", "−1 credits"},
		{999, "999", "+999", "999 credits"},
		{1000, "1,000", "+1,000", "1,000 credits"},
		{-5, "−5", "−5", "−5 credits"},
		{-12500, "−12,500", "−12,500", "−12,500 credits"},
		{1234567, "1,234,567", "+1,234,567", "1,234,567 credits"},
		{-9223372036854775808, "−9,223,372,036,854,775,808", "−9,223,372,036,854,775,808", "−9,223,372,036,854,775,808 credits"},
	} {
		if got := FormatCount(tt.n); got != tt.count {
			t.Errorf("FormatCount(%d) = %q, want %q", tt.n, got, tt.count)
		}
		if got := SignedCount(tt.n); got != tt.signed {
			t.Errorf("SignedCount(%d) = %q, want %q", tt.n, got, tt.signed)
		}
		if got := Plural(tt.n, "credit"); got != tt.plur {
			t.Errorf("Plural(%d) = %q, want %q", tt.n, got, tt.plur)
		}
	}
}

func TestPerCredit(t *testing.T) {
	for _, tt := range []struct {
		price, credits int64
		cur            money.Currency
		want           string
	}{
		{499, 100, money.USD, "5.0¢ a credit"},
		{2499, 600, money.USD, "4.2¢ a credit"},
		{25000, 100, money.USD, "$2.50 a credit"},   // a dollar or more: not 250.0¢
		{199, 5000, money.USD, "$0.00040 a credit"}, // below 0.1¢: not 0.0¢, which reads as free
		{100, 10000, money.USD, "$0.00010 a credit"},
		{2499, 600, "eur", "€0.042 a credit"}, // not "4.2¢": a cent sign reads as a dollar's
		{499, 100, "cad", "CA$0.050 a credit"},
		{100, 1000, "jpy", "¥0.10 a credit"}, // not ¥0: that reads as free
		{499, 0, money.USD, ""},
	} {
		if got := PerCredit(tt.price, tt.credits, tt.cur); got != tt.want {
			t.Errorf("PerCredit(%d, %d, %s) = %q, want %q", tt.price, tt.credits, tt.cur, got, tt.want)
		}
	}
}
