package money

import (
	"errors"
	"strings"
)

// Currency is a lowercase currency code as Whop writes it on the wire, such as
// "usd", "jpy" or Whop's own "whop_usd". Keeping Whop's spelling means a
// Currency can be sent back to the API and compared with webhook payloads
// without case games.
type Currency string

// A few currencies the app and its tests name often.
const (
	USD     Currency = "usd"
	EUR     Currency = "eur"
	GBP     Currency = "gbp"
	JPY     Currency = "jpy"
	WhopUSD Currency = "whop_usd"
)

// ErrInvalidCurrency reports a currency code that is empty or contains
// characters no currency code uses.
var ErrInvalidCurrency = errors.New("money: invalid currency code")

// maxCurrencyLen bounds codes so a hostile payload cannot smuggle arbitrary
// text into places that print currencies. Whop's longest known code is
// "whop_usd"; 16 leaves room for others of that kind.
const maxCurrencyLen = 16

// ParseCurrency validates a currency code and returns it in lowercase. It
// accepts ISO 4217 codes in either case and Whop's underscore forms such as
// "whop_usd"; it does not require the code to be known, because Whop adds
// currencies (crypto tickers among them) faster than any table here would.
func ParseCurrency(s string) (Currency, error) {
	if s == "" || len(s) > maxCurrencyLen {
		return "", ErrInvalidCurrency
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_' && i > 0:
		default:
			return "", ErrInvalidCurrency
		}
	}
	return Currency(strings.ToLower(s)), nil
}

// Exponent is the number of digits after the decimal point in the currency's
// major unit: 2 for "usd" (cents), 0 for "jpy", 3 for "kwd". Unknown codes,
// including "whop_usd", use 2 because that is both the ISO default and what
// Whop's dollar-denominated balances use.
func (c Currency) Exponent() int {
	switch c {
	// ISO 4217 currencies with no minor unit in practice.
	case "bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "mga", "pyg",
		"rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf":
		return 0
	// ISO 4217 currencies with a thousandth minor unit.
	case "bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd":
		return 3
	default:
		return 2
	}
}

// symbol returns the prefix used for display and whether one is known. The
// table is small on purpose: a wrong symbol is worse than the plain code.
func (c Currency) symbol() (string, bool) {
	switch c {
	case "usd":
		return "$", true
	case "eur":
		return "€", true
	case "gbp":
		return "£", true
	case "jpy":
		return "¥", true
	case "krw":
		return "₩", true
	case "inr":
		return "₹", true
	case "cad":
		return "CA$", true
	case "aud":
		return "A$", true
	case "nzd":
		return "NZ$", true
	case "brl":
		return "R$", true
	case "mxn":
		return "MX$", true
	case "hkd":
		return "HK$", true
	case "sgd":
		return "S$", true
	}
	return "", false
}
