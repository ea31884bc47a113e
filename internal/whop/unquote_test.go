package whop

import (
	"encoding/json"
	"testing"
)

// TestUnquoteIsEncodingJSON holds the plain-string shortcut to what
// encoding/json makes of the same literal: escapes, non-ASCII and invalid
// UTF-8 included.
func TestUnquoteIsEncodingJSON(t *testing.T) {
	for _, lit := range []string{
		`""`, `"pay_1a2B3c"`, `"2026-12-06T21:00:00.123Z"`, `"4.99"`, `" spaced "`,
		`"a\"b"`, `"back\\slash"`, `"tab\tescaped"`, `"\u00e9t\u00e9"`, `"\ud83d\ude00"`,
		`"café"`, "\"\xff\xfe\"", `"~"`, "\"\x7f\"", `"/"`, `"\/"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("%s: encoding/json refused it: %v", lit, err)
		}
		got, err := unquote([]byte(lit))
		if err != nil || got != want {
			t.Errorf("unquote(%s) = %q, %v; encoding/json reads %q", lit, got, err, want)
		}
	}
}

// FuzzUnquote checks the shortcut against encoding/json on any literal
// encoding/json accepts (the custom decoders only ever see those).
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"x"`, `"\n"`, `"é"`, "\"\xc3\x28\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		var want string
		if json.Unmarshal([]byte(lit), &want) != nil {
			return
		}
		got, err := unquote([]byte(lit))
		if err != nil || got != want {
			t.Fatalf("unquote(%q) = %q, %v; encoding/json reads %q", lit, got, err, want)
		}
	})
}
