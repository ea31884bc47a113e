package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestImageCarriesNoSandbox: the server binary (all the runtime image
// holds) links no sandbox package, and the Dockerfile builds only the
// app's bundle and probes health with the binary itself.
func TestImageCarriesNoSandbox(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "/whopsim") || strings.HasSuffix(pkg, "/pgtest") || strings.HasSuffix(pkg, "/browsertest") {
			t.Errorf("creditkit links %s", pkg)
		}
	}
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"RUN make static/dist/whop-iframe.js", `CMD ["/usr/local/bin/creditkit", "healthcheck"]`, "HEALTHCHECK "} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Contains(df, "make bundle") || strings.Contains(df, "whop-host") {
		t.Error("Dockerfile builds the sandbox's host bundle")
	}
}
