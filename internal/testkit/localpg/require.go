package localpg

import (
	"fmt"
	"os"
	"strings"
)

// TB is what RequireTool needs of a test (testing.TB has it all).
type TB interface {
	Helper()
	Name() string
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// RequireTool ends a test whose tool this machine lacks, err being what
// PgBouncerBinary, Binaries or Standby said: the test is skipped with a
// message nobody can miss, or fails under CI=true, where .ci/run installs
// every tool and a skip would hide a gap. A nil err lets the test go on.
func RequireTool(t TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := "TEST NOT RUN: " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true makes this a failure", msg)
	}
	loud := strings.Repeat("!", 78)
	fmt.Fprintf(os.Stderr, "\n%s\n%s: %s\nCI=true makes this a failure.\n%s\n\n", loud, t.Name(), msg, loud)
	t.Skipf("%s", msg)
}
