package money

import (
	"errors"
	"math"
	"testing"
)

func TestParseMajor(t *testing.T) {
	tests := []struct {
		in   string
		cur  Currency
		want int64
	}{
		{"4.99", USD, 499},
		{"10", USD, 1000},
		{"10.50", USD, 1050},
		{"10.5", USD, 1050},
		{"0.29", USD, 29}, // 0.29 is 28.999… as a float64
		{"0", USD, 0},
		{"-0", USD, 0},
		{"-1.25", USD, -125},
		{"4.990", USD, 499},
		{"4.99000000000000000000", USD, 499},
		{"007.5", USD, 750},
		{"1e2", USD, 10000},
		{"1E2", USD, 10000},
		{"1e+2", USD, 10000},
		{"499e-2", USD, 499},
		{"4.99e0", USD, 499},
		{"0.05e1", USD, 50},
		{"0e99999", USD, 0},
		{"500", JPY, 500},
		{"500.0", JPY, 500},
		{"1.234", "kwd", 1234},
		{"2.5", WhopUSD, 250},
		{"92233720368547758.07", USD, math.MaxInt64},
		{"-92233720368547758.08", USD, math.MinInt64},
		{"9223372036854775807", JPY, math.MaxInt64},
		{"-9223372036854775808", JPY, math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(string(tt.cur)+"/"+tt.in, func(t *testing.T) {
			got, err := ParseMajor(tt.in, tt.cur)
			if err != nil {
				t.Fatalf("ParseMajor(%q, %q) error: %v", tt.in, tt.cur, err)
			}
			if got != tt.want {
				t.Fatalf("ParseMajor(%q, %q) = %d, want %d", tt.in, tt.cur, got, tt.want)
			}
		})
	}
}

func TestParseMajorRejects(t *testing.T) {
	tests := []struct {
		in   string
		cur  Currency
		want error
	}{
		{"", USD, ErrSyntax},
		{"-", USD, ErrSyntax},
		{"+1", USD, ErrSyntax},
		{" 1", USD, ErrSyntax},
		{"1 ", USD, ErrSyntax},
		{".5", USD, ErrSyntax},
		{"5.", USD, ErrSyntax},
		{"1,000", USD, ErrSyntax},
		{"1.2.3", USD, ErrSyntax},
		{"1e", USD, ErrSyntax},
		{"1e+", USD, ErrSyntax},
		{"0x10", USD, ErrSyntax},
		{"NaN", USD, ErrSyntax},
		{"Infinity", USD, ErrSyntax},
		{"--1", USD, ErrSyntax},
		{"１", USD, ErrSyntax}, // fullwidth digit
		{"4.999", USD, ErrPrecision},
		{"0.001", USD, ErrPrecision},
		{"1.5", JPY, ErrPrecision},
		{"1e-3", USD, ErrPrecision},
		{"1e-99999", USD, ErrPrecision},
		{"1e99999", USD, ErrRange},
		{"92233720368547758.08", USD, ErrRange},
		{"-92233720368547758.09", USD, ErrRange},
		{"9223372036854775808", JPY, ErrRange},
		{"1e17", USD, ErrRange},
		{"99999999999999999999999", JPY, ErrRange},
	}
	for _, tt := range tests {
		t.Run(string(tt.cur)+"/"+tt.in, func(t *testing.T) {
			got, err := ParseMajor(tt.in, tt.cur)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseMajor(%q, %q) = %d, %v; want error %v", tt.in, tt.cur, got, err, tt.want)
			}
		})
	}
}

func TestParseMajorRounded(t *testing.T) {
	tests := []struct {
		in   string
		cur  Currency
		want int64
	}{
		{"4.99", USD, 499},
		{"0.324", USD, 32},
		{"0.326", USD, 33},
		{"0.325", USD, 32}, // half to even
		{"0.335", USD, 34}, // half to even
		{"0.3250001", USD, 33},
		{"-0.326", USD, -33},
		{"-0.325", USD, -32},
		{"0.5", JPY, 0},
		{"1.5", JPY, 2},
		{"0.004", USD, 0},
		{"0.005", USD, 0},
		{"0.015", USD, 2},
		{"1e-9", USD, 0},
		{"1e-99999", USD, 0},
		{"-0e-99999", USD, 0},
		{"5e-3", USD, 0}, // exactly half of a cent with nothing kept: even is 0
		{"6e-3", USD, 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.cur)+"/"+tt.in, func(t *testing.T) {
			got, err := ParseMajorRounded(tt.in, tt.cur)
			if err != nil {
				t.Fatalf("ParseMajorRounded(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseMajorRounded(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	if _, err := ParseMajorRounded("92233720368547758.075", USD); !errors.Is(err, ErrRange) {
		t.Fatalf("rounding past MaxInt64: err = %v, want ErrRange", err)
	}
}

func TestFormatMajor(t *testing.T) {
	tests := []struct {
		minor int64
		cur   Currency
		want  string
	}{
		{499, USD, "4.99"},
		{1000, USD, "10"},
		{1050, USD, "10.5"},
		{50, USD, "0.5"},
		{5, USD, "0.05"},
		{0, USD, "0"},
		{-5, USD, "-0.05"},
		{-100, USD, "-1"},
		{500, JPY, "500"},
		{0, JPY, "0"},
		{1234, "kwd", "1.234"},
		{1200, "kwd", "1.2"},
		{250, WhopUSD, "2.5"},
		{math.MaxInt64, USD, "92233720368547758.07"},
		{math.MinInt64, USD, "-92233720368547758.08"},
		{math.MinInt64, JPY, "-9223372036854775808"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatMajor(tt.minor, tt.cur); got != tt.want {
				t.Fatalf("FormatMajor(%d, %q) = %q, want %q", tt.minor, tt.cur, got, tt.want)
			}
			back, err := ParseMajor(tt.want, tt.cur)
			if err != nil || back != tt.minor {
				t.Fatalf("round trip of %q = %d, %v; want %d", tt.want, back, err, tt.minor)
			}
			a := Amount{Minor: tt.minor, Currency: tt.cur}
			if a.Major() != tt.want {
				t.Fatalf("Amount.Major() = %q, want %q", a.Major(), tt.want)
			}
		})
	}
}

func FuzzFormatParseRoundTrip(f *testing.F) {
	for _, seed := range []int64{0, 1, -1, 499, 1050, math.MaxInt64, math.MinInt64} {
		f.Add(seed, uint8(0))
	}
	currencies := []Currency{USD, JPY, "kwd", WhopUSD, "xyz"}
	f.Fuzz(func(t *testing.T, minor int64, pick uint8) {
		c := currencies[int(pick)%len(currencies)]
		s := FormatMajor(minor, c)
		got, err := ParseMajor(s, c)
		if err != nil || got != minor {
			t.Fatalf("ParseMajor(FormatMajor(%d, %q) = %q) = %d, %v", minor, c, s, got, err)
		}
		if r, err := ParseMajorRounded(s, c); err != nil || r != minor {
			t.Fatalf("ParseMajorRounded(%q) = %d, %v", s, r, err)
		}
	})
}

func FuzzParseMajor(f *testing.F) {
	for _, seed := range []string{"4.99", "1e2", "-0.5", "1e-99999", "9223372036854775807", "0.325"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseMajor(s, USD)
		if err != nil {
			return
		}
		// Whatever parses exactly must format back to a string of equal value.
		again, err := ParseMajor(FormatMajor(n, USD), USD)
		if err != nil || again != n {
			t.Fatalf("%q parsed as %d but its canonical form reparsed as %d, %v", s, n, again, err)
		}
		if r, err := ParseMajorRounded(s, USD); err != nil || r != n {
			t.Fatalf("rounded parse of exact %q = %d, %v; want %d", s, r, err, n)
		}
	})
}

// TestParsePlainMajor: plain decimals read as ParseMajor reads them; any
// exponent is refused with ErrExponent, as a string or as a JSON number's
// literal text, whatever its value.
func TestParsePlainMajor(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{{"12.50", 1250}, {"12", 1200}, {"-5", -500}, {"0.29", 29}, {"100.000", 10000}} {
		if got, err := ParsePlainMajor(tt.in, USD); err != nil || got != tt.want {
			t.Errorf("ParsePlainMajor(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"1e2", "1E2", "1e+2", "1.5e1", "499e-2", "0e0", "1e400", "1e"} {
		if got, err := ParsePlainMajor(in, USD); !errors.Is(err, ErrExponent) || got != 0 {
			t.Errorf("ParsePlainMajor(%q) = %d, %v; want ErrExponent", in, got, err)
		}
	}
	for _, in := range []string{"", "ten", "1.", ".5", "1,5", "1 000"} {
		if _, err := ParsePlainMajor(in, USD); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParsePlainMajor(%q) error = %v; want ErrSyntax", in, err)
		}
	}
	if _, err := ParsePlainMajor("1.005", USD); !errors.Is(err, ErrPrecision) {
		t.Errorf("ParsePlainMajor(1.005) error = %v; want ErrPrecision", err)
	}
}
