package whopsim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The sandbox keeps money as integer minor units, like the app, and turns
// it into Whop's major-unit JSON numbers only when writing a response.

// exponent is the number of minor-unit digits of a currency. Whop's list is
// long; the sandbox only needs to be right for the ones tests use and
// sensible for the rest (two digits).
func exponent(currency string) int {
	switch currency {
	case "jpy", "krw", "vnd", "clp", "pyg", "rwf", "xof", "mga":
		return 0
	case "kwd", "bhd", "jod", "omr", "tnd":
		return 3
	}
	return 2
}

// major writes minor units of currency as a JSON number in major units:
// 499 usd -> 4.99, 1000 usd -> 10, 500 jpy -> 500.
func major(minor int64, currency string) json.Number {
	exp := exponent(currency)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	if exp > 0 {
		for len(s) <= exp {
			s = "0" + s
		}
		whole, frac := s[:len(s)-exp], strings.TrimRight(s[len(s)-exp:], "0")
		s = whole
		if frac != "" {
			s += "." + frac
		}
	}
	if neg {
		s = "-" + s
	}
	return json.Number(s)
}

// parseMajor reads a major-unit JSON number into minor units, refusing more
// fractional digits than the currency has and exponents, so a request can
// never carry a fraction of a cent into the ledger.
func parseMajor(n json.Number, currency string) (int64, error) {
	s := string(n)
	if s == "" {
		return 0, fmt.Errorf("amount is required")
	}
	if strings.ContainsAny(s, "eE") {
		return 0, fmt.Errorf("amount %s: write it without an exponent", s)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	exp := exponent(currency)
	if len(frac) > exp {
		return 0, fmt.Errorf("amount %s has more than %d decimal places for %s", n, exp, currency)
	}
	frac += strings.Repeat("0", exp-len(frac))
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || whole == "" {
		return 0, fmt.Errorf("amount %s is not a number", n)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// optionalMajor is parseMajor for fields that may be absent (zero).
func optionalMajor(n json.Number, currency string) (int64, error) {
	if n == "" {
		return 0, nil
	}
	return parseMajor(n, currency)
}
