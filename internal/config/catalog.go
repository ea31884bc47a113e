package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultSpendItems is what credits buy when SPEND_ITEMS is not set: the
// catalog the schema used to seed, so an existing deployment keeps it.
const DefaultSpendItems = "sticker:5:Sticker pack:A pack of animated stickers for the chat.," +
	"boost:20:Profile boost:Pin your profile to the top of the member list for a day.," +
	"review:50:Expert review:A written review of your work by the creator."

// Limits of a spend item's text, so the member's page lays out and a spend
// row stays small.
const (
	MaxItemTitle       = 60
	MaxItemDescription = 200
)

// SpendItem is one thing credits buy. The catalog lives in configuration:
// each spend records the title and cost it had, so repricing or removing an
// item never rewrites history.
type SpendItem struct {
	ID          string
	Cost        int64 // credits
	Title       string
	Description string
}

// spendItems parses SPEND_ITEMS: comma-separated id:credits:title, with an
// optional fourth part, the description (which may itself hold colons). It
// reports every bad item, one line each, rather than stopping at the first.
func (l *loader) spendItems(name string) []SpendItem {
	v, set := l.getenv(name), true
	if strings.TrimSpace(v) == "" {
		v, set = DefaultSpendItems, false
	}
	var out []SpendItem
	seen := map[string]bool{}
	for i, raw := range strings.Split(v, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		it, problems := parseSpendItem(raw)
		for _, p := range problems {
			l.bad(name, "item %d: %s", i+1, p)
		}
		if len(problems) > 0 {
			continue
		}
		if seen[it.ID] {
			l.bad(name, "item %d: id %q appears twice", i+1, it.ID)
			continue
		}
		seen[it.ID] = true
		out = append(out, it)
	}
	if set && len(out) == 0 && len(l.problems) == 0 {
		l.bad(name, "lists no item (format id:credits:title, e.g. sticker:5:Sticker pack,boost:20:Profile boost)")
	}
	return out
}

func parseSpendItem(s string) (SpendItem, []string) {
	parts := strings.SplitN(s, ":", 4)
	if len(parts) < 3 {
		return SpendItem{}, []string{fmt.Sprintf("%q is not id:credits:title (e.g. sticker:5:Sticker pack)", s)}
	}
	it := SpendItem{ID: strings.TrimSpace(parts[0]), Title: strings.TrimSpace(parts[2])}
	if len(parts) == 4 {
		it.Description = strings.TrimSpace(parts[3])
	}
	var problems []string
	if !validID(it.ID) {
		problems = append(problems, fmt.Sprintf("id %q must be 1-32 of a-z, 0-9, - or _", it.ID))
	}
	cost, err := strconv.ParseInt(strings.TrimSpace(parts[1]), 10, 64)
	switch {
	case err != nil && !isInteger(strings.TrimSpace(parts[1])):
		problems = append(problems, fmt.Sprintf("%q: credits must be a whole number above 0, got %q", it.ID, parts[1]))
	case err != nil || cost <= 0 || cost > MaxCredits:
		problems = append(problems, fmt.Sprintf("%q: credits must be from 1 to %d, got %q", it.ID, MaxCredits, parts[1]))
	}
	it.Cost = cost
	switch n := utf8.RuneCountInString(it.Title); {
	case n == 0:
		problems = append(problems, fmt.Sprintf("%q: the title is empty", it.ID))
	case n > MaxItemTitle:
		problems = append(problems, fmt.Sprintf("%q: the title is %d characters, at most %d", it.ID, n, MaxItemTitle))
	}
	if n := utf8.RuneCountInString(it.Description); n > MaxItemDescription {
		problems = append(problems, fmt.Sprintf("%q: the description is %d characters, at most %d", it.ID, n, MaxItemDescription))
	}
	return it, problems
}

// isInteger reports whether s is an optionally signed run of digits: "-5"
// is a whole number (just not above 0), "5.5" and "five" are not.
func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
