package money

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Errors returned by ParseMajor and ParseMajorRounded, wrapped with the input.
var (
	// ErrSyntax reports a string that is not a plain decimal number.
	ErrSyntax = errors.New("money: not a decimal number")
	// ErrPrecision reports more fractional digits than the currency has,
	// when the extra digits are not zeros: "4.999" dollars is not a price.
	ErrPrecision = errors.New("money: more decimal places than the currency allows")
	// ErrRange reports an amount whose minor units do not fit in an int64.
	ErrRange = errors.New("money: amount out of range")
	// ErrExponent reports exponent notation ("1e2") where only plain
	// decimals are accepted (see ParsePlainMajor).
	ErrExponent = errors.New("money: exponent notation is not accepted here")
)

// maxExp10 bounds the exponent of "1e…" forms. Any larger exponent gives the
// same outcome as this one (zero, an overflow or lost digits), so clamping it
// keeps the arithmetic on small ints.
const maxExp10 = 10000

// ParseMajor converts an exact decimal string in major units, as it appears in
// a JSON number or a config value ("4.99", "10", "-0.5", "1e2", "4.990"), into
// integer minor units of c. It never goes through a float, so "0.29" is 29
// cents, not 28.999… It refuses nonzero digits beyond the currency's exponent
// (ErrPrecision) and results outside int64 (ErrRange). A leading minus sign is
// allowed; whether a negative amount makes sense is the caller's decision.
func ParseMajor(s string, c Currency) (int64, error) {
	return parseMajor(s, c, false)
}

// ParsePlainMajor is ParseMajor for amounts a person or a client program
// states, such as a payout: only plain decimals ("12.50", "12", "-5") are
// accepted. Exponent notation is exact and JSON allows it, but nobody types
// "1.25e1" for $12.50; where it shows up it comes from a float formatted by
// a program ("1e+21", "5e-7"), which is the very imprecision this package
// keeps away from money, and it lets a short string name an enormous amount.
// It is refused with ErrExponent, never read.
func ParsePlainMajor(s string, c Currency) (int64, error) {
	// A number followed by an exponent marker is refused as such, even an
	// incomplete one ("1e"); other text is left to the usual syntax error.
	if i := strings.IndexAny(s, "eE"); i > 0 {
		if _, err := scanDecimal(s[:i]); err == nil {
			return 0, fmt.Errorf("parse %s: %w", quoteShort(s), ErrExponent)
		}
	}
	return parseMajor(s, c, false)
}

// ParseMajorRounded is ParseMajor for amounts that a counterparty computed
// with more precision than the currency has, such as fees and currency
// conversions. Extra digits are rounded half to even, which keeps sums of many
// rounded values from drifting in one direction.
func ParseMajorRounded(s string, c Currency) (int64, error) {
	return parseMajor(s, c, true)
}

func parseMajor(s string, c Currency, round bool) (int64, error) {
	d, err := scanDecimal(s)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", quoteShort(s), err)
	}
	n, err := d.minor(c.Exponent(), round)
	if err != nil {
		return 0, fmt.Errorf("parse %s as %s: %w", quoteShort(s), string(c), err)
	}
	return n, nil
}

// decimal is a scanned number: value = digits × 10^exp10, negated if neg.
type decimal struct {
	neg    bool
	digits string // ASCII digits, leading zeros kept, at least one
	exp10  int
}

// scanDecimal accepts the JSON number grammar, relaxed to allow leading zeros
// (harmless in config values): -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanDecimal(s string) (decimal, error) {
	var d decimal
	i := 0
	if i < len(s) && s[i] == '-' {
		d.neg = true
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == intStart {
		return d, ErrSyntax
	}
	intPart := s[intStart:i]
	fracPart := ""
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == fracStart {
			return d, ErrSyntax
		}
		fracPart = s[fracStart:i]
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		expStart := i
		for i < len(s) && isDigit(s[i]) {
			if exp <= maxExp10 {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == expStart {
			return d, ErrSyntax
		}
		if exp > maxExp10 {
			// Clamped: past this, a nonzero mantissa overflows or loses
			// digits either way, and a zero one is still zero.
			exp = maxExp10 + 1
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return d, ErrSyntax
	}
	// Joining the parts needs one allocation only when there is a fraction;
	// the common "10" and JSON integers stay allocation-free.
	if fracPart == "" {
		d.digits = intPart
	} else {
		d.digits = intPart + fracPart
	}
	d.exp10 = exp - len(fracPart)
	return d, nil
}

// minor scales d to units of 10^-exponent.
func (d decimal) minor(exponent int, round bool) (int64, error) {
	shift := d.exp10 + exponent
	kept, dropped := d.digits, ""
	if shift < 0 {
		k := -shift
		if k > len(d.digits) {
			k = len(d.digits)
			// Digits dropped past the start are implicit leading zeros,
			// so the first dropped digit is 0 and the rest cannot round up.
			dropped = "0" + d.digits
		} else {
			dropped = d.digits[len(d.digits)-k:]
		}
		kept = d.digits[:len(d.digits)-k]
		shift = 0
	}
	limit := uint64(math.MaxInt64)
	if d.neg {
		limit++ // -9223372036854775808 is representable
	}
	var u uint64
	for i := 0; i < len(kept); i++ {
		v := uint64(kept[i] - '0')
		if u > (limit-v)/10 {
			return 0, ErrRange
		}
		u = u*10 + v
	}
	if !allZero(dropped) {
		if !round {
			return 0, ErrPrecision
		}
		if roundsUp(dropped, u) {
			if u == limit {
				return 0, ErrRange
			}
			u++
		}
	}
	for ; shift > 0 && u != 0; shift-- {
		if u > limit/10 {
			return 0, ErrRange
		}
		u *= 10
	}
	if d.neg {
		return int64(-u), nil // two's complement wraps 1<<63 to MinInt64
	}
	return int64(u), nil
}

// roundsUp applies half-to-even to the dropped digits of a kept value.
func roundsUp(dropped string, kept uint64) bool {
	switch first := dropped[0]; {
	case first > '5':
		return true
	case first < '5':
		return false
	case !allZero(dropped[1:]):
		return true
	default:
		return kept%2 == 1
	}
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// quoteShort quotes s for an error message without letting a hostile
// megabyte-long input into the logs.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
