package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// demoDefaults are make dev's own values for settings production leaves
// off, so the local app shows its features; the shell or .env win.
var demoDefaults = []struct{ name, value, why string }{
	{"PREMIUM_MONTHLY_CREDITS", "50", "premium members get monthly credits"},
	{"REVENUE_SHARE_PERCENT", "10", "creators' dashboards show shares arriving"},
}

// origins says where a variable's value comes from, besides make dev.
type origins struct {
	shell  func(string) (string, bool) // the real environment
	dotenv map[string]string           // the .env file
}

// get returns a variable's value and where it came from ("" when unset).
// An empty value counts as unset, as the app's configuration reads it.
func (o origins) get(name string) (value, from string) {
	if v, ok := o.shell(name); ok && strings.TrimSpace(v) != "" {
		return v, "your environment"
	}
	if v := o.dotenv[name]; strings.TrimSpace(v) != "" {
		return v, ".env"
	}
	return "", ""
}

// appSettings composes the app's environment on top of the shell's: the
// sandbox's ids, make dev's own wiring, and the demo defaults unless the
// shell or .env set them. It returns the extra variables and one line per
// decision, so nothing is switched on or off silently.
func appSettings(o origins, sandbox []string, fixed []string) (env, report []string) {
	var fromSandbox []string
	for _, kv := range sandbox {
		name, _, _ := strings.Cut(kv, "=")
		fromSandbox = append(fromSandbox, name)
		if _, from := o.get(name); from != "" {
			report = append(report, fmt.Sprintf("%s in %s is not used: make dev runs against the sandbox", name, from))
		}
	}
	env = append(env, sandbox...)
	report = append(report, "from the sandbox: "+strings.Join(fromSandbox, ", "))
	var wired []string
	for _, kv := range fixed {
		name, value, _ := strings.Cut(kv, "=")
		wired = append(wired, name+"="+value)
	}
	env = append(env, fixed...)
	report = append(report, "set by make dev: "+strings.Join(wired, " "))
	for _, d := range demoDefaults {
		v, from := o.get(d.name)
		if from == "" {
			env = append(env, d.name+"="+d.value)
			report = append(report, fmt.Sprintf("%s=%s: make dev's demo value (%s); set it in .env to change it", d.name, d.value, d.why))
			continue
		}
		hint := ""
		if v != d.value {
			hint = fmt.Sprintf(" (make dev's demo uses %s; empty the line to get it)", d.value)
		}
		report = append(report, fmt.Sprintf("%s=%s: from %s%s", d.name, v, from, hint))
	}
	// Everything else .env sets reaches the app as it is.
	taken := append(slices.Clone(fromSandbox), namesOf(fixed)...)
	for _, d := range demoDefaults {
		taken = append(taken, d.name)
	}
	var rest []string
	for name, v := range o.dotenv {
		if strings.TrimSpace(v) == "" || slices.Contains(taken, name) {
			continue
		}
		if _, inShell := o.shell(name); inShell {
			continue
		}
		rest = append(rest, name)
	}
	sort.Strings(rest)
	if len(rest) > 0 {
		report = append(report, "from .env: "+strings.Join(rest, ", "))
	}
	return env, report
}

func namesOf(kvs []string) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i], _, _ = strings.Cut(kv, "=")
	}
	return out
}
