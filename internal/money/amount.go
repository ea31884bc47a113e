package money

import "math/bits"

// Amount is an exact quantity of money: integer minor units (cents for "usd",
// yen for "jpy") and the currency that gives them meaning.
type Amount struct {
	Minor    int64
	Currency Currency
}

// Major returns the amount in the wire form of FormatMajor.
func (a Amount) Major() string { return FormatMajor(a.Minor, a.Currency) }

// FormatMajor writes minor units of c as the canonical decimal string in major
// units that Whop's API takes as a JSON number: no exponent, no trailing
// fractional zeros, no trailing dot ("4.99", "10", "0.5", "-0.05", "500" for
// 500 jpy). ParseMajor(FormatMajor(x, c), c) == x for every int64 x.
func FormatMajor(minor int64, c Currency) string {
	var buf [24]byte // sign, 19 digits, a dot, and a spare
	u, neg := magnitude(minor)
	exp := c.Exponent()
	i := len(buf)
	frac := false
	for k := 0; k < exp; k++ {
		digit := byte('0' + u%10)
		u /= 10
		// Trailing zeros are skipped until the first significant digit.
		if !frac && digit == '0' {
			continue
		}
		frac = true
		i--
		buf[i] = digit
	}
	if frac {
		i--
		buf[i] = '.'
	}
	i = putUint(buf[:i], u)
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// String formats the amount for people: "$4.99", "-$1.00", "€24.99", "¥500",
// "$1,234.56", and "4.99 WHOP_USD" for a currency without a known symbol
// ("4.99" with no currency at all). It
// always shows every fractional digit of the currency, so columns line up.
// It allocates only the result, since dashboards format thousands of rows.
func (a Amount) String() string { return a.format(a.Currency.Exponent()) }

// PerUnit is price (minor units of c) divided by units, for people, to
// at least two significant digits: "€0.042" for €24.99 over 600, "¥0.10"
// for ¥100 over 1,000, "€2.50" for €25.00 over 10. It shows up to four
// digits past the currency's own, rounded half up ("under $0.000001"
// below that); "" for no units or no price.
func PerUnit(price, units int64, c Currency) string {
	if units <= 0 || price <= 0 {
		return ""
	}
	const maxExtra = 4
	for extra := 0; ; extra++ {
		scale := int64(1)
		for range extra {
			scale *= 10
		}
		hi, lo := bits.Mul64(uint64(price), uint64(scale))
		if hi >= uint64(units) { // too large to scale further; price ≥ 10 × units anyway
			break
		}
		q, r := bits.Div64(hi, lo, uint64(units))
		if 2*r >= uint64(units) {
			q++
		}
		switch {
		case q >= 10 || extra == maxExtra && q > 0:
			return Amount{Minor: int64(q), Currency: c}.format(c.Exponent() + extra)
		case extra == maxExtra: // rounds to nothing, which would read as free
			return "under " + Amount{Minor: 1, Currency: c}.format(c.Exponent()+extra)
		}
	}
	return Amount{Minor: price / units, Currency: c}.String()
}

// format writes the amount as if its currency had exp fractional digits.
func (a Amount) format(exp int) string {
	var buf [64]byte
	u, neg := magnitude(a.Minor)
	sym, known := a.Currency.symbol()

	// Build right to left: code suffix, fraction, grouped integer, symbol, sign.
	i := len(buf)
	if !known && a.Currency != "" {
		code := a.Currency
		if len(code) > maxCurrencyLen {
			code = code[:maxCurrencyLen]
		}
		for j := len(code) - 1; j >= 0; j-- {
			i--
			buf[i] = upper(code[j])
		}
		i--
		buf[i] = ' '
	}
	if exp > 0 {
		for k := 0; k < exp; k++ {
			i--
			buf[i] = byte('0' + u%10)
			u /= 10
		}
		i--
		buf[i] = '.'
	}
	for group := 0; ; group++ {
		if group > 0 && group%3 == 0 {
			i--
			buf[i] = ','
		}
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if known {
		i -= len(sym)
		copy(buf[i:], sym)
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// magnitude returns |n| as a uint64, which unlike int64 can hold |MinInt64|.
func magnitude(n int64) (uint64, bool) {
	if n < 0 {
		return uint64(-n), true // -MinInt64 wraps to itself, and uint64 reads it as 1<<63
	}
	return uint64(n), false
}

// putUint writes u in decimal ending at the end of buf and returns where the
// digits start.
func putUint(buf []byte, u uint64) int {
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			return i
		}
	}
}

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - ('a' - 'A')
	}
	return b
}
