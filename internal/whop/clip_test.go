package whop

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	long := strings.Repeat("a", maxErrorMessage+10)
	for _, tt := range []struct {
		name, in, want string
	}{
		{"short stays whole", "bad request", "bad request"},
		{"exactly the limit stays whole", long[:maxErrorMessage], long[:maxErrorMessage]},
		{"long is cut at the limit", long, long[:maxErrorMessage] + "…"},
		// "é" is two bytes; one straddling the limit is dropped whole.
		{"a rune across the limit is not halved", long[:maxErrorMessage-1] + "é" + "tail", long[:maxErrorMessage-1] + "…"},
		// An invalid byte early in Whop's body is Whop's: the cut stays at the limit.
		{"an early invalid byte does not shorten the cut", "\xff" + long, "\xff" + long[:maxErrorMessage-1] + "…"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := clip(tt.in)
			if got != tt.want {
				t.Fatalf("clip: %d bytes %q…, want %d bytes", len(got), got[:min(len(got), 20)], len(tt.want))
			}
			if utf8.ValidString(tt.in) && !utf8.ValidString(got) {
				t.Fatalf("clip cut a rune in half: %q", got[len(got)-8:])
			}
		})
	}
}
