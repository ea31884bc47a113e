package money

import (
	"errors"
	"math"
	"testing"
)

func TestAmountString(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{Amount{499, USD}, "$4.99"},
		{Amount{100, USD}, "$1.00"},
		{Amount{5, USD}, "$0.05"},
		{Amount{0, USD}, "$0.00"},
		{Amount{-100, USD}, "-$1.00"},
		{Amount{123456, USD}, "$1,234.56"},
		{Amount{100000000, USD}, "$1,000,000.00"},
		{Amount{2499, EUR}, "€24.99"},
		{Amount{1050, GBP}, "£10.50"},
		{Amount{500, JPY}, "¥500"},
		{Amount{-1500, JPY}, "-¥1,500"},
		{Amount{1234, "kwd"}, "1.234 KWD"},
		{Amount{499, WhopUSD}, "4.99 WHOP_USD"},
		{Amount{-499, WhopUSD}, "-4.99 WHOP_USD"},
		{Amount{499, "cad"}, "CA$4.99"},
		{Amount{499, ""}, "4.99"},
		{Amount{math.MinInt64, USD}, "-$92,233,720,368,547,758.08"},
		{Amount{math.MaxInt64, "averyverylongcurrencycode"}, "92,233,720,368,547,758.07 AVERYVERYLONGCUR"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.a.String(); got != tt.want {
				t.Fatalf("%#v.String() = %q, want %q", tt.a, got, tt.want)
			}
		})
	}
}

func TestAmountStringAllocatesOnce(t *testing.T) {
	a := Amount{Minor: 123456, Currency: EUR}
	if n := testing.AllocsPerRun(100, func() { _ = a.String() }); n > 1 {
		t.Fatalf("String allocates %v times, want at most 1", n)
	}
}

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in   string
		want Currency
		err  bool
	}{
		{"usd", USD, false},
		{"USD", USD, false},
		{"Whop_USD", WhopUSD, false},
		{"usdt", "usdt", false},
		{"", "", true},
		{"_usd", "", true},
		{"us d", "", true},
		{"usd\n", "", true},
		{"€", "", true},
		{"abcdefghijklmnopq", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCurrency(tt.in)
			if tt.err {
				if !errors.Is(err, ErrInvalidCurrency) {
					t.Fatalf("ParseCurrency(%q) = %q, %v; want ErrInvalidCurrency", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseCurrency(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestExponent(t *testing.T) {
	tests := map[Currency]int{
		USD: 2, EUR: 2, GBP: 2, WhopUSD: 2, "xyz": 2,
		JPY: 0, "krw": 0, "vnd": 0, "clp": 0,
		"bhd": 3, "kwd": 3, "jod": 3, "omr": 3,
	}
	for c, want := range tests {
		if got := c.Exponent(); got != want {
			t.Errorf("%q.Exponent() = %d, want %d", c, got, want)
		}
	}
}

func BenchmarkAmountString(b *testing.B) {
	a := Amount{Minor: 123456, Currency: USD}
	b.ReportAllocs()
	for b.Loop() {
		_ = a.String()
	}
}

func BenchmarkParseMajor(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseMajor("24.99", USD)
	}
}

func BenchmarkFormatMajor(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = FormatMajor(2499, USD)
	}
}

func TestPerUnit(t *testing.T) {
	for _, tt := range []struct {
		price, units int64
		cur          Currency
		want         string
	}{
		{2499, 600, "eur", "€0.042"},             // 4.165 cents: a digit past the cent
		{499, 100, "gbp", "£0.050"},              // 4.99 pence rounds to 5.0
		{499, 100, "chf", "0.050 CHF"},           // no symbol: the code after
		{100, 1000, "jpy", "¥0.10"},              // a tenth of a yen, not ¥0
		{500, 100, "jpy", "¥5.0"},                // two digits even at whole yen
		{2500, 10, "eur", "€2.50"},               // already two digits: the currency's own
		{1, 10_000, "usd", "$0.000001"},          // four past the cent at most
		{1, 1_000_000, "usd", "under $0.000001"}, // never $0.000000, which reads as free
		{123456, 1000, "kwd", "0.123 KWD"},
		{1, 3, "usd", "$0.0033"},
		{0, 10, "usd", ""},
		{10, 0, "usd", ""},
	} {
		if got := PerUnit(tt.price, tt.units, tt.cur); got != tt.want {
			t.Errorf("PerUnit(%d, %d, %s) = %q, want %q", tt.price, tt.units, tt.cur, got, tt.want)
		}
	}
}
