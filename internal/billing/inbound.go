package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// Whop's data is checked before the app acts on it or stores any of it:
// every id it keeps or passes back to Whop has its kind's shape (prefix and
// base62, whop.ValidID), every status is a short token, and Whop's own text
// (a failure message, a dispute reason) holds no NUL or control characters.
// A signed delivery that fails is refused: recorded with the reason (the
// dashboard lists it) and answered 2xx, because Whop sending it again cannot
// make it any better. Only a failure that may pass (Postgres or Whop
// unreachable) is an error, which makes the webhook answer 5xx.

// MalformedError is data from Whop the app will not act on, with the reason.
// From a webhook it is recorded as a refusal, not returned; a caller that
// read the data from Whop's API (confirm, the checkout return) gets it.
type MalformedError struct{ Reason string }

// Error gives the reason.
func (e *MalformedError) Error() string { return "billing: unusable data from Whop: " + e.Reason }

func malformedf(format string, args ...any) error {
	return &MalformedError{Reason: fmt.Sprintf(format, args...)}
}

// Limits of what Whop's data may hold.
const (
	maxToken     = 64   // statuses, event types
	maxWhopText  = 2000 // failure messages, dispute reasons
	maxShown     = 80   // of an unusable value, quoted in a reason
	maxDelivery  = 255  // webhook-id
	maxRefusedAs = 500  // a refusal's whole outcome text
)

// quote shows an unusable value in a reason: escaped to printable ASCII, so
// the reason itself is always storable, and clipped.
func quote(s string) string {
	q := strconv.QuoteToASCII(s)
	if len(q) > maxShown {
		q = q[:maxShown-3] + "..."
	}
	return q
}

// isToken reports a status or event type: a short run of letters, digits,
// "_", "." and "-" (Whop's are snake_case with dots).
func isToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isWhopText reports text Whop wrote for people: valid UTF-8, bounded, and
// without control characters other than tab and line breaks.
func isWhopText(s string) bool {
	if len(s) > maxWhopText || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < ' ' && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	return true
}

// optional applies ok to s when s is set.
func optional(s string, ok func(string) bool) bool { return s == "" || ok(s) }

func anyID(s string) bool { return whop.LooksLikeID(s) }

func idOf(prefix string) func(string) bool {
	return func(s string) bool { return whop.ValidID(s, prefix) }
}

// checkEnvelope checks what a delivery record keeps of the envelope.
func checkEnvelope(ev *whop.Event) error {
	switch {
	case !isToken(ev.Type, maxToken):
		return malformedf("event type %s is not a Whop event name", quote(ev.Type))
	case !optional(ev.CompanyID, idOf(whop.PrefixCompany)):
		return malformedf("company %s is not a Whop company id", quote(ev.CompanyID))
	}
	return nil
}

// checkPayment checks the fields of a payment the app stores, compares or
// sends back to Whop, whichever path it came by.
func checkPayment(p *whop.Payment) error {
	purchase := p.Metadata[MetaPurchaseID]
	switch {
	case !whop.ValidID(p.ID, whop.PrefixPayment):
		return malformedf("payment id %s is not a Whop payment id", quote(p.ID))
	case !optional(purchase, idOf(PurchasePrefix)):
		return malformedf("metadata.%s %s is not a Creditkit purchase id", MetaPurchaseID, quote(purchase))
	case !optional(string(p.Status), func(s string) bool { return isToken(s, maxToken) }):
		return malformedf("payment status %s is not a Whop status", quote(string(p.Status)))
	case !optional(string(p.Substatus), func(s string) bool { return isToken(s, maxToken) }):
		return malformedf("payment substatus %s is not a Whop status", quote(string(p.Substatus)))
	case !optional(p.UserID, idOf(whop.PrefixUser)):
		return malformedf("payment user %s is not a Whop user id", quote(p.UserID))
	case !optional(p.CompanyID, idOf(whop.PrefixCompany)):
		return malformedf("payment company %s is not a Whop company id", quote(p.CompanyID))
	case !optional(p.MembershipID, idOf(whop.PrefixMembership)):
		return malformedf("payment membership %s is not a Whop membership id", quote(p.MembershipID))
	case !optional(p.PlanID, anyID), !optional(p.ProductID, anyID):
		return malformedf("payment plan %s or product %s is not a Whop id", quote(p.PlanID), quote(p.ProductID))
	case !optional(p.CheckoutConfigurationID, anyID):
		return malformedf("payment checkout %s is not a Whop id", quote(p.CheckoutConfigurationID))
	case !isWhopText(p.FailureMessage):
		return malformedf("payment failure message %s is not plain text of at most %d bytes", quote(p.FailureMessage), maxWhopText)
	}
	return nil
}

// checkClaim checks a refund or a dispute (kind): its own id, which must not
// be a payment's (a payment-shaped object sent as a refund names no
// payment), and the payment it is against, which the app reads from Whop.
func checkClaim(kind, id, paymentID, status, reason string) error {
	switch {
	case strings.HasPrefix(id, whop.PrefixPayment):
		return malformedf("%s data is a payment (%s), not a %s", kind, quote(id), kind)
	case !anyID(id):
		return malformedf("%s id %s is not a Whop id", kind, quote(id))
	case paymentID == "":
		return malformedf("%s %s names no payment", kind, id)
	case !whop.ValidID(paymentID, whop.PrefixPayment):
		return malformedf("%s %s names payment %s, which is not a Whop payment id", kind, id, quote(paymentID))
	case !optional(status, func(s string) bool { return isToken(s, maxToken) }):
		return malformedf("%s status %s is not a Whop status", kind, quote(status))
	case !isWhopText(reason):
		return malformedf("%s reason %s is not plain text of at most %d bytes", kind, quote(reason), maxWhopText)
	}
	return nil
}

// checkMembership checks what the memberships table keeps of a membership.
func checkMembership(m *whop.Membership) error {
	switch {
	case !whop.ValidID(m.ID, whop.PrefixMembership):
		return malformedf("membership id %s is not a Whop membership id", quote(m.ID))
	case !whop.ValidID(m.UserID, whop.PrefixUser):
		return malformedf("membership %s: user %s is not a Whop user id", m.ID, quote(m.UserID))
	case !optional(m.PlanID, anyID), !optional(m.ProductID, anyID):
		return malformedf("membership %s: plan %s or product %s is not a Whop id", m.ID, quote(m.PlanID), quote(m.ProductID))
	case !optional(string(m.Status), func(s string) bool { return isToken(s, 32) && strings.ToLower(s) == s }):
		return malformedf("membership %s: status %s is not a Whop status", m.ID, quote(string(m.Status)))
	}
	return nil
}

// deliveryKey is the id a delivery is recorded under: Whop's webhook-id when
// it is printable ASCII of a sane length, as it always is, else a digest of
// it (so a repeat is still recognised) with the reason to refuse it.
func deliveryKey(id string) (key, problem string) {
	ok := id != "" && len(id) <= maxDelivery
	for i := 0; ok && i < len(id); i++ {
		ok = id[i] > ' ' && id[i] <= '~'
	}
	if ok {
		return id, ""
	}
	sum := sha256.Sum256([]byte(id))
	return "unprintable_" + hex.EncodeToString(sum[:16]), "webhook-id " + quote(id) + " is not printable text"
}

// refuse records a delivery the app will not act on, with the reason, and
// answers as a handled delivery: Whop must not send it again. Every field of
// the record is made storable first, whatever the delivery held. Only a
// failure to record it is an error.
func (s *core) refuse(ctx context.Context, d *ledger.Delivery, cause error) (Delivered, error) {
	rec, outcome := refusal(*d, cause)
	err := s.store.RecordDelivery(ctx, rec, outcome)
	if errors.Is(err, ledger.ErrDuplicateDelivery) {
		return duplicate(), nil // refused, and logged, the first time
	}
	if err != nil {
		return Delivered{}, err
	}
	s.log.WarnContext(ctx, "webhook refused", "delivery_id", rec.ID, "type", rec.Type, "reason", outcome)
	return Delivered{Kind: Refused, Outcome: outcome}, nil
}

// refusal is the record of a refused delivery and its outcome text, every
// field storable and shown as printable text whatever the delivery held:
// the id is already a key (deliveryKey); an event type or object id that
// is not one is shown quoted, a company id that is not one is left out.
func refusal(d ledger.Delivery, cause error) (ledger.Delivery, string) {
	reason := cause.Error()
	var bad *MalformedError
	if errors.As(cause, &bad) {
		reason = bad.Reason
	}
	if d.Type != "" && !isToken(d.Type, maxToken) {
		d.Type = quote(d.Type)
	}
	if !whop.ValidID(d.CompanyID, whop.PrefixCompany) {
		d.CompanyID = "" // the owner's dashboard still lists it
	}
	if d.ObjectID != "" && !anyID(d.ObjectID) {
		d.ObjectID = quote(d.ObjectID)
	}
	return d, prefixRefused + escape(reason, maxRefusedAs)
}

// escape is s with everything but printable ASCII written as Go escapes
// ("\x00", "\u202e"), clipped to max bytes.
func escape(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; {
		c := s[i]
		if c >= ' ' && c <= '~' {
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, `\x%02x`, c)
		} else {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
	}
	return out
}
