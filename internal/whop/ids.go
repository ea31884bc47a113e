package whop

// Whop's ids are a lowercase prefix naming the kind of object, an
// underscore, and base62 characters: pay_6dWDN0kA5QW2hm (PROTOCOL §0). The
// characters are the rule that matters: a space, a NUL, a byte-order mark or
// SQL text appended to a real id makes it no id at all, and refusing it
// before any database or API call is what keeps such input from being
// polled for or stored. The length is not documented (observed ids carry 13
// or 14 characters after the prefix), so only an upper bound generous
// enough for any future length is enforced.

// Prefixes of the ids the app reads from outside.
const (
	PrefixPayment    = "pay_"
	PrefixCompany    = "biz_"
	PrefixUser       = "user_"
	PrefixExperience = "exp_"
	PrefixMembership = "mem_"
	PrefixPlan       = "plan_"
	PrefixProduct    = "prod_"
	PrefixCheckout   = "ch_"
)

// MaxIDLen bounds a whole id, prefix included. Whop's are about 18 bytes;
// four times that leaves room for a longer format without letting a
// kilobyte of text pass as an id.
const MaxIDLen = 72

// ValidID reports whether s is prefix followed by one or more base62
// characters, MaxIDLen bytes at most in all.
func ValidID(s, prefix string) bool {
	if len(s) <= len(prefix) || len(s) > MaxIDLen || s[:len(prefix)] != prefix {
		return false
	}
	return isBase62(s[len(prefix):])
}

// LooksLikeID reports whether s has the shape of some Whop id, whatever its
// kind: one to eight lowercase letters, "_", then base62 characters. It is
// for ids whose prefix Whop does not document (refunds, disputes, the
// checkout ids of older generations).
func LooksLikeID(s string) bool {
	if len(s) > MaxIDLen {
		return false
	}
	i := 0
	for i < len(s) && i <= 8 && s[i] >= 'a' && s[i] <= 'z' {
		i++
	}
	if i == 0 || i > 8 || i >= len(s) || s[i] != '_' {
		return false
	}
	return isBase62(s[i+1:])
}

func isBase62(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
