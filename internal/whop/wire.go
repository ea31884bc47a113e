package whop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// The types in this file decode Whop's JSON tolerantly. Three API generations
// and two webhook formats disagree on how a value is written (an id or an
// expanded object, a number or a numeric string, ISO time or unix seconds),
// so each field type accepts every form seen for it. The rule for a value of
// an unexpected JSON kind (an object where a number was expected) is to treat
// it as absent: it means the API grew a structure we do not read, and an
// absent amount or id can only make the app refuse, never over-credit. A
// string of the right kind that cannot be parsed is an error, because it
// means corrupt data.

// unquote reads a JSON string literal. Nearly every string Whop sends (ids,
// statuses, times, amounts) is plain printable ASCII with no escape, which
// is copied out as it stands; anything else (escapes, non-ASCII, which
// encoding/json checks and repairs as UTF-8) goes through encoding/json.
// The custom decoders below are called by encoding/json, or by the fast
// path's lexer (wire_fast.go), with a value it has already checked, so the
// plain case needs no further checking; decoding each such string with
// json.Unmarshal, which checks it again, was most of the cost of reading a
// payment.
func unquote(b []byte) (string, error) {
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' {
		plain := true
		for _, c := range b[1 : n-1] {
			if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
				plain = false
				break
			}
		}
		if plain {
			return string(b[1 : n-1]), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// flexString is a string that may also arrive as a number or boolean.
type flexString string

// UnmarshalJSON keeps strings, numbers and booleans as text; null and
// structures read as empty.
func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		*s = ""
	case b[0] == '"':
		v, err := unquote(b)
		if err != nil {
			return err
		}
		*s = flexString(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9') || string(b) == "true" || string(b) == "false":
		*s = flexString(b)
	default: // null, objects, arrays
		*s = ""
	}
	return nil
}

// link is a reference to another object: a bare id ("user_…") in v2 and v5,
// an object ({"id":…, "username":…}) in v1 and in expanded v2 responses.
type link struct {
	ID       string
	Username string
	Name     string
	Email    string
	Status   string
	Route    string
	Title    string
}

// UnmarshalJSON reads a bare id or an expanded object.
func (l *link) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*l = link{}
	if len(b) == 0 {
		return nil
	}
	if b[0] != '{' {
		var id flexString
		if err := id.UnmarshalJSON(b); err != nil {
			return err
		}
		l.ID = string(id)
		return nil
	}
	var o linkObject
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*l = o.link()
	return nil
}

// linkObject is the expanded form of a link as it arrives.
type linkObject struct {
	ID       flexString `json:"id"`
	Username flexString `json:"username"`
	Name     flexString `json:"name"`
	Email    flexString `json:"email"`
	Status   flexString `json:"status"`
	Route    flexString `json:"route"`
	Title    flexString `json:"title"`
}

func (o *linkObject) link() link {
	return link{string(o.ID), string(o.Username), string(o.Name), string(o.Email),
		string(o.Status), string(o.Route), string(o.Title)}
}

// decNum keeps a JSON number's exact text (or a numeric string's) until the
// currency is known, so it can become minor units without a float.
type decNum string

// UnmarshalJSON keeps the digits of a number or numeric string.
func (d *decNum) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		*d = ""
	case b[0] == '"':
		v, err := unquote(b)
		if err != nil {
			return err
		}
		*d = decNum(strings.TrimSpace(v))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*d = decNum(b)
	default:
		*d = ""
	}
	return nil
}

// MaxAmount bounds every amount of a payment, refund or dispute read from
// Whop, either side of zero: 10^14 minor units, a trillion dollars (and
// still 61 million dollars' worth of rupiah, whose minor unit is worth
// least), far above any one an app sees, and small enough that the sums the
// reports make of tens of thousands of them, and a share of one at any rate
// (amount × basis points), stay inside int64. Unbounded, one signed dispute
// of 92 quadrillion dollars made every revenue report's sum overflow, and
// the dashboards answer 500. A ledger account's balances are not amounts
// of this kind (nothing sums them) and are read unbounded.
const MaxAmount = 100_000_000_000_000

// ErrAmountTooLarge reports an amount beyond MaxAmount.
var ErrAmountTooLarge = errors.New("whop: amount beyond the largest one read (10^14 minor units)")

// minor converts to minor units of c, bounded by MaxAmount. Whop computes
// fees and conversions with more precision than a currency has, so extra
// digits are rounded (half to even) rather than refused.
func (d decNum) minor(c money.Currency) (int64, error) {
	n, err := d.minorUnbounded(c)
	if err == nil && (n > MaxAmount || n < -MaxAmount) {
		return 0, fmt.Errorf("%s %s: %w", d, c, ErrAmountTooLarge)
	}
	return n, err
}

// minorUnbounded is minor for a balance: any amount an int64 holds.
func (d decNum) minorUnbounded(c money.Currency) (int64, error) {
	if d == "" {
		return 0, nil
	}
	return money.ParseMajorRounded(string(d), c)
}

// optBool is a boolean that remembers whether it was present, because a
// missing "valid" must be derived while a present one is authoritative.
type optBool struct{ set, val bool }

// UnmarshalJSON reads true/false, quoted or not; anything else is absent.
func (o *optBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true":
		*o = optBool{true, true}
	case "false":
		*o = optBool{true, false}
	default:
		*o = optBool{}
	}
	return nil
}

// flexTime is a timestamp in ISO 8601 (v1), unix seconds as a number (v2,
// v5) or unix seconds as a string (some v5 fields, per its spec).
type flexTime time.Time

// msThreshold separates unix seconds from milliseconds: 1e11 seconds is in
// the year 5138, while 1e11 milliseconds is in 1973.
const msThreshold = 100_000_000_000

// UnmarshalJSON reads ISO 8601 or unix seconds, as a number or a string.
func (t *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*t = flexTime{}
	if len(b) == 0 || (b[0] != '"' && (b[0] < '0' || b[0] > '9') && b[0] != '-') {
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		var err error
		if s, err = unquote(b); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
	}
	parsed, err := parseFlexTime(s)
	if err != nil {
		return err
	}
	*t = flexTime(parsed)
	return nil
}

var errBadTime = errors.New("whop: unrecognised timestamp")

func parseFlexTime(s string) (time.Time, error) {
	whole, frac, _ := strings.Cut(s, ".")
	// Only digits can be unix time: trying ParseInt on an ISO time would
	// cost its error's two allocations for nothing.
	if digits := strings.TrimPrefix(whole, "-"); digits != "" && allDigits(digits) && allDigits(frac) {
		if n, err := strconv.ParseInt(whole, 10, 64); err == nil {
			if n >= msThreshold || n <= -msThreshold {
				return time.UnixMilli(n).UTC(), nil
			}
			var nanos int64
			if frac != "" {
				frac = (frac + "000000000")[:9]
				nanos, _ = strconv.ParseInt(frac, 10, 64)
			}
			if n < 0 {
				nanos = -nanos
			}
			return time.Unix(n, nanos).UTC(), nil
		}
	}
	if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return ts.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%w: %q", errBadTime, clip(s))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// metadata is Whop's free-form metadata object flattened to strings: the app
// writes strings, and anything else (numbers, nested objects) is kept as its
// compact JSON text so nothing is silently lost.
type metadata map[string]string

// UnmarshalJSON flattens the metadata object; a non-object reads as nil.
func (m *metadata) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*m = nil
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case string(v) == "null":
			continue
		case len(v) > 0 && v[0] == '"':
			s, err := unquote(v)
			if err != nil {
				return err
			}
			out[k] = s
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return err
			}
			out[k] = buf.String()
		}
	}
	*m = out
	return nil
}
