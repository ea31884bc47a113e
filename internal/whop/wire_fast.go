package whop

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// A fast path for the webhook's hot decode: the envelope (wireEvent) and a
// payment's data (wirePayment). encoding/json reads a delivery's data bytes
// about four times (it checks the body, decodes the envelope keeping data
// raw, then checks and decodes data again) and re-enters itself for every
// link and metadata object; this reads each object once, with a small
// lexer, and hands every field's value to the field's own UnmarshalJSON,
// exactly as encoding/json would.
//
// It handles the plain shape Whop sends and nothing else: on anything it
// is not certain of (malformed JSON, a key with an escape, a non-ASCII or
// upper-case key that encoding/json might match to a field case-
// insensitively, a field given twice, nesting past maxFastDepth, a field
// that fails to decode) it says "not mine" and the caller decodes the
// whole input with encoding/json as before, so results and errors are
// encoding/json's. TestFastWireIsEncodingJSON and FuzzFastWire hold it to that.

// fastWire turns the fast path on. Tests turn it off to compare with
// encoding/json.
var fastWire = true

// maxFastDepth is the deepest nesting the fast path reads; deeper input
// (never Whop's) goes to encoding/json, whose own limit is far higher.
const maxFastDepth = 32

// fastEnvelope decodes a (trimmed) webhook body, or reports false.
func fastEnvelope(body []byte) (*wireEvent, bool) {
	w := new(wireEvent)
	if !fastWire || !decodeWhole(body, w, eventFields) {
		return nil, false
	}
	return w, true
}

// fastPayment decodes a payment object, or reports false.
func fastPayment(data []byte) (*wirePayment, bool) {
	w := new(wirePayment)
	if !fastWire || !decodeWhole(data, w, paymentFields) {
		return nil, false
	}
	return w, true
}

// Each wire struct's fields by their JSON names, read from the struct tags
// themselves so they cannot drift from what encoding/json matches.
var (
	eventFields   = fieldsOf[wireEvent]()
	paymentFields = fieldsOf[wirePayment]()
	linkFields    = fieldsOf[linkObject]()
)

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// fieldsOf maps T's JSON names to its field indexes. It panics (at init) if
// T breaks what the fast path relies on: at most 64 fields (the duplicate
// check is a bit set), each exported, with a plain name of lower-case
// ASCII, digits and underscores (so a key can only match it exactly; see
// wireObject), named once, not embedded, and decoded by its own
// UnmarshalJSON; and T itself has no UnmarshalJSON (encoding/json would
// call it instead of filling the fields). Two fields of one name would be
// dropped by encoding/json and kept by a map, so the paths would differ.
func fieldsOf[T any]() map[string]int {
	t := reflect.TypeFor[T]()
	if t.NumField() > 64 {
		panic("whop: fast path: too many fields in " + t.Name())
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		panic("whop: fast path cannot read " + t.Name() + ": it has its own UnmarshalJSON")
	}
	names := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		plain := name != "" && strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
		_, twice := names[name]
		if !f.IsExported() || f.Anonymous || !plain || twice || opts != "" || !reflect.PointerTo(f.Type).Implements(unmarshalerType) {
			panic("whop: fast path cannot read " + t.Name() + "." + f.Name)
		}
		names[name] = i
	}
	return names
}

// decodeWhole reads data, which must be one object and nothing else but
// JSON white space, into the struct dst points to.
func decodeWhole(data []byte, dst any, names map[string]int) bool {
	lx := lexer{b: data}
	lx.space()
	if !lx.wireObject(reflect.ValueOf(dst).Elem(), names, 0) {
		return false
	}
	lx.space()
	return lx.i == len(data)
}

// wireObject reads an object into the struct v, whose fields names lists.
// Only a key written plainly (no escape, ASCII) is matched, and only
// exactly: a key with an upper-case letter that names no field is refused,
// since encoding/json would match it to a field regardless of case (the
// field names have none, see fieldsOf). Unknown keys are skipped, as
// encoding/json skips them; a field given twice is refused.
func (lx *lexer) wireObject(v reflect.Value, names map[string]int, depth int) bool {
	var seen uint64
	return lx.object(depth, func(key []byte, plain bool) bool {
		if !plain {
			return false
		}
		name := key[1 : len(key)-1]
		i, known := names[string(name)]
		if !known {
			if bytes.ContainsFunc(name, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
				return false
			}
			_, ok := lx.value(depth + 1)
			return ok
		}
		if seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		raw, ok := lx.value(depth + 1)
		return ok && setField(v.Field(i).Addr().Interface().(json.Unmarshaler), raw)
	})
}

// setField gives a field its value's text, as encoding/json does. Links and
// metadata given as objects, whose UnmarshalJSON would call encoding/json
// again, are read by the lexer first; if it declines, the field's own
// UnmarshalJSON reads them. A field that fails makes the whole input
// encoding/json's, so that the error is encoding/json's too.
func setField(dst json.Unmarshaler, raw []byte) bool {
	switch f := dst.(type) {
	case *link:
		if raw[0] == '{' {
			var o linkObject
			if decodeWhole(raw, &o, linkFields) {
				*f = o.link()
				return true
			}
		}
	case *metadata:
		if raw[0] == '{' {
			if m, ok := fastMetadata(raw); ok {
				*f = m
				return true
			}
		}
	}
	return dst.UnmarshalJSON(raw) == nil
}

// fastMetadata is metadata.UnmarshalJSON for an object without encoding/json:
// strings unquoted, null dropped, anything else kept as compact JSON text.
// A repeated key keeps its last value, as encoding/json's map does, and a
// null drops what an earlier same key set.
func fastMetadata(raw []byte) (metadata, bool) {
	out := metadata{}
	lx := lexer{b: raw}
	ok := lx.object(0, func(key []byte, _ bool) bool {
		k, err := unquote(key)
		if err != nil {
			return false
		}
		v, ok := lx.value(1)
		if !ok {
			return false
		}
		switch v[0] {
		case 'n': // null
			delete(out, k)
		case '"':
			s, err := unquote(v)
			if err != nil {
				return false
			}
			out[k] = s
		case '{', '[':
			var buf bytes.Buffer
			if json.Compact(&buf, v) != nil {
				return false
			}
			out[k] = buf.String()
		default: // a number, true or false: valid literals have no space to remove
			out[k] = string(v)
		}
		return true
	})
	return out, ok && lx.i == len(raw)
}

// lexer reads JSON text from b at i. Its methods check the grammar as
// encoding/json's scanner does and return false on anything else; after a
// false, where i stands is of no use.
type lexer struct {
	b []byte
	i int
}

// peek returns the next byte, or 0 at the end (0 starts no JSON token).
func (lx *lexer) peek() byte {
	if lx.i < len(lx.b) {
		return lx.b[lx.i]
	}
	return 0
}

// space skips JSON white space: only these four bytes.
func (lx *lexer) space() {
	for lx.i < len(lx.b) {
		switch lx.b[lx.i] {
		case ' ', '\t', '\n', '\r':
			lx.i++
		default:
			return
		}
	}
}

// value reads one value of any kind and returns its text. depth is how
// many objects and arrays enclose it.
func (lx *lexer) value(depth int) ([]byte, bool) {
	start := lx.i
	var ok bool
	switch c := lx.peek(); {
	case c == '"':
		_, _, ok = lx.str()
	case c == '{':
		ok = lx.object(depth, func([]byte, bool) bool {
			_, ok := lx.value(depth + 1)
			return ok
		})
	case c == '[':
		ok = lx.array(depth)
	case c == '-' || '0' <= c && c <= '9':
		ok = lx.number()
	case c == 't':
		ok = lx.word("true")
	case c == 'f':
		ok = lx.word("false")
	case c == 'n':
		ok = lx.word("null")
	}
	if !ok {
		return nil, false
	}
	return lx.b[start:lx.i], true
}

// object reads an object, calling member for each member with its key's
// literal (quotes included) and whether that literal is plain: no escape,
// no byte outside ASCII. member must read the value, which starts at i.
func (lx *lexer) object(depth int, member func(key []byte, plain bool) bool) bool {
	return lx.list(depth, '{', '}', func() bool {
		if lx.peek() != '"' {
			return false
		}
		key, plain, ok := lx.str()
		if !ok {
			return false
		}
		lx.space()
		if lx.peek() != ':' {
			return false
		}
		lx.i++
		lx.space()
		return member(key, plain)
	})
}

// array reads an array, checking its elements.
func (lx *lexer) array(depth int) bool {
	return lx.list(depth, '[', ']', func() bool {
		_, ok := lx.value(depth + 1)
		return ok
	})
}

// list reads what objects and arrays share: open, then items separated by
// commas (item reads one, from where i stands), then close, white space
// allowed between any two.
func (lx *lexer) list(depth int, open, close byte, item func() bool) bool {
	if depth >= maxFastDepth || lx.peek() != open {
		return false
	}
	lx.i++
	lx.space()
	if lx.peek() == close {
		lx.i++
		return true
	}
	for {
		if !item() {
			return false
		}
		lx.space()
		switch lx.peek() {
		case ',':
			lx.i++
			lx.space()
		case close:
			lx.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string literal and returns it, quotes included, and whether
// it is plain (see object). Escapes are checked, not decoded: unquote
// decodes the literal when a field wants its value.
func (lx *lexer) str() (lit []byte, plain, ok bool) {
	b, start := lx.b, lx.i
	plain = true
	for i := start + 1; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			lx.i = i + 1
			return b[start:lx.i], plain, true
		case c < 0x20: // control characters must be escaped
			return nil, false, false
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				return nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return nil, false, false
				}
				i += 6
			default:
				return nil, false, false
			}
		case c >= 0x80: // UTF-8, valid or not, is kept: unquote repairs it as encoding/json does
			plain = false
			i++
		default:
			i++
		}
	}
	return nil, false, false // unterminated
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (lx *lexer) number() bool {
	b, i := lx.b, lx.i
	digits := func() bool { // one or more
		n := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	lx.i = i
	return true
}

// word reads the literal w (true, false or null).
func (lx *lexer) word(w string) bool {
	if len(lx.b)-lx.i < len(w) || string(lx.b[lx.i:lx.i+len(w)]) != w {
		return false
	}
	lx.i += len(w)
	return true
}
