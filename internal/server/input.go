package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/go-chi/chi/v5"
)

// This file is the edge's one check of text that comes from outside: JSON
// fields, path and query parameters, form values. Everything a handler
// passes on to billing has been through it, so no NUL byte, invalid UTF-8
// or junk id reaches Postgres or Whop. Each field has a kind:
//
//   - ids Whop issues (exp_, biz_, pay_ …) and our purchase ids (pur_):
//     the prefix and base62 characters, nothing else (whop.ValidID);
//   - names from the configuration (package, item): a short slug;
//   - idempotency keys: 1 to 255 printable ASCII characters, what an HTTP
//     Idempotency-Key header may carry;
//   - a person's text (payout notes): valid UTF-8 without control or
//     direction-override characters, at most so many characters;
//   - a payout recipient or a grant's member: a username or a user id;
//   - credits: a whole number; days: 2026-03-31; a grant's expiry: a day or
//     an RFC 3339 time.
//
// A refusal is a 400 naming the field ("invalid_<field>", or
// "missing_field" for a required one left empty) and changes nothing.

// Limits of the kinds above.
const (
	maxKeyLen    = 255 // Whop's own limit on Idempotency-Key
	maxSlugLen   = 64  // config ids are 1–32; twice that is still clearly a name
	maxUsername  = 64
	maxAmountLen = 40
)

// field is one input a handler checks: its name as the caller writes it, its
// text, whether it may be empty, and its kind.
type field struct {
	name, value string
	required    bool
	kind        kind
}

// kind is a field's rule: ok reports whether a non-empty text is of the
// kind; want completes "<name> must be …" for the caller.
type kind struct {
	ok   func(string) bool
	want string
}

// pathKinds are the kinds of the routes' path parameters, by name.
var pathKinds = map[string]field{
	"experienceId": {name: "experience_id", required: true, kind: kindExperience},
	"companyId":    {name: "company_id", required: true, kind: kindCompany},
	"paymentId":    {name: "payment_id", required: true, kind: kindPayment},
	"purchaseId":   {name: "purchase_id", required: true, kind: kindPurchase},
}

// checkPath refuses a request whose path parameters are not of their kinds,
// before any handler or access check sees them. It runs after routing (in
// a route group), when chi has the parameters.
func (s *Server) checkPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rc := chi.RouteContext(r.Context()); rc != nil {
			for i, key := range rc.URLParams.Keys {
				f, ok := pathKinds[key]
				if !ok {
					// A route added without a rule for its parameter: fail
					// closed (TestEveryPathParameterHasAKind finds it first).
					s.fail(w, r, fmt.Errorf("server: no kind for path parameter %q", key))
					return
				}
				f.value = rc.URLParams.Values[i]
				if err := checkFields(f); err != nil {
					s.fail(w, r, err)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkFields returns the error for the first field, in the order given,
// that is missing or not of its kind; nil when all are fine.
func checkFields(fields ...field) error {
	for _, f := range fields {
		if strings.TrimSpace(f.value) == "" && (f.required || f.value == "") {
			if f.required {
				return newError(http.StatusBadRequest, "missing_field", f.name+" is required.")
			}
			continue
		}
		if !f.kind.ok(f.value) {
			return newError(http.StatusBadRequest, "invalid_"+f.name, f.name+" must be "+f.kind.want+".")
		}
	}
	return nil
}

// idOf is the kind of a Whop id with prefix, described as what.
func idOf(prefix, what string) kind {
	return kind{
		ok:   func(s string) bool { return whop.ValidID(s, prefix) },
		want: what + " (" + prefix + " followed by letters and digits)",
	}
}

// The id kinds the routes take.
var (
	kindExperience = idOf(whop.PrefixExperience, "a Whop experience id")
	kindCompany    = idOf(whop.PrefixCompany, "a Whop company id")
	kindPayment    = idOf(whop.PrefixPayment, "a Whop payment id, the receipt id the purchase returned")
	kindPurchase   = idOf(billing.PurchasePrefix, "a Creditkit purchase id")
)

var (
	// kindSlug is a package or item name from the configuration.
	kindSlug = kind{ok: isSlug, want: "the id of one of the app's packages or items (letters, digits, - and _)"}
	// kindKey is a client's key for a request it may send again.
	kindKey = kind{ok: func(s string) bool { return isPrintableASCII(s, maxKeyLen) }, want: "1 to " + strconv.Itoa(maxKeyLen) + " printable ASCII characters"}
	// kindRecipient is who a payout goes to.
	kindRecipient = kind{ok: isRecipient, want: "a Whop username (letters, digits, _, - and .) or a user id (user_…)"}
	// kindAmount is a money amount before billing reads its value: short
	// printable text, whose value (and the refusal of exponent notation) is
	// billing's to judge.
	kindAmount = kind{ok: func(s string) bool { return isPrintableASCII(s, maxAmountLen) }, want: "a decimal amount such as 12.50"}
	// kindCredits is a whole number of credits as typed.
	kindCredits = kind{ok: isCount, want: "a whole number of credits"}
	// kindDate is a day.
	kindDate = kind{ok: isDate, want: "a date such as 2026-03-31"}
	// kindExpiry is when granted credits expire: a day or a moment.
	kindExpiry = kind{ok: isExpiry, want: "a date such as 2026-03-31 or a time such as 2026-03-31T18:00:00Z"}
)

// kindText is the kind of a person's free text of at most max characters.
func kindText(max int) kind {
	return kind{
		ok:   func(s string) bool { return utf8.RuneCountInString(s) <= max && isPlainText(s) },
		want: "text of at most " + strconv.Itoa(max) + " characters, without control characters",
	}
}

func isSlug(s string) bool {
	if len(s) > maxSlugLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// isPrintableASCII reports at most max bytes of printable ASCII: what an
// idempotency key (an HTTP header's text) and a typed amount may hold.
func isPrintableASCII(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// isRecipient accepts what an admin types: a username or a user id, with
// an optional "@" and surrounding spaces (billing trims both).
func isRecipient(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "@")
	if strings.HasPrefix(s, whop.PrefixUser) {
		return whop.ValidID(s, whop.PrefixUser)
	}
	return s != "" && len(s) <= maxUsername && isSlug(s)
}

// isCount accepts up to 18 digits (any int64 of that length), with spaces
// around them; billing judges the value.
func isCount(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDate accepts a calendar day written 2026-03-31.
func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	return err == nil
}

// isExpiry accepts a day or an RFC 3339 time.
func isExpiry(s string) bool {
	s = strings.TrimSpace(s)
	if isDate(s) {
		return true
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil && len(s) <= 40
}

// isPlainText reports valid UTF-8 with no control characters (C0, DEL, C1:
// NUL among them), no byte-order mark and none of the characters that
// reorder text on screen (bidirectional overrides and isolates), which have
// no place in a note shown to someone else.
func isPlainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r), r == '\uFEFF',
			r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
			return false
		}
	}
	return true
}
