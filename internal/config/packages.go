package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/creditkit/creditkit/internal/money"
)

func (l *loader) packages(name string, cur money.Currency) []Package {
	v := l.str(name, DefaultCreditPackages)
	var out []Package
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		p, err := parsePackage(strings.TrimSpace(item), cur)
		if err != nil {
			l.bad(name, "%v (format id:credits:price, e.g. %s)", err, DefaultCreditPackages)
			return nil
		}
		if seen[p.ID] {
			l.bad(name, "package id %q appears twice", p.ID)
			return nil
		}
		seen[p.ID] = true
		out = append(out, p)
	}
	return out
}

func parsePackage(s string, cur money.Currency) (Package, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Package{}, fmt.Errorf("%q is not id:credits:price", s)
	}
	id := parts[0]
	if !validID(id) {
		return Package{}, fmt.Errorf("package id %q must be 1-32 of a-z, 0-9, - or _", id)
	}
	credits, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || credits <= 0 || credits > MaxCredits {
		return Package{}, fmt.Errorf("package %q: credits must be a whole number from 1 to %d, got %q", id, MaxCredits, parts[1])
	}
	price, err := money.ParseMajor(parts[2], cur)
	if err != nil || price <= 0 {
		return Package{}, fmt.Errorf("package %q: price must be above 0 with at most %d decimals, got %q", id, cur.Exponent(), parts[2])
	}
	if price > MaxPrice {
		return Package{}, fmt.Errorf("package %q: price must be at most %s, got %q", id, money.FormatMajor(MaxPrice, cur), parts[2])
	}
	return Package{ID: id, Credits: credits, Price: price}, nil
}

func validID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
