package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// TestStandaloneBinary builds whopsim as `make whopsim` does and runs it
// from an empty directory: it serves its pages and the embedded iframe
// host bundle with nothing else from the repository, keeps its state in
// the file it was given, and finds that state again after a restart.
func TestStandaloneBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "whopsim")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work := t.TempDir() // nothing here but what the binary writes
	state := filepath.Join(work, "sandbox-state.json")
	addr, relay := freeAddr(t), freeAddr(t)
	start := func() (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(bin, "serve", "--addr", addr, "--relay-addr", relay, "--webhook-url", "off", "--state-file", state)
		cmd.Dir = work
		var logs syncBuffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitFor(t, "the sandbox", func() bool {
			res, err := http.Get("http://" + addr + "/.well-known/jwks.json")
			if err == nil {
				res.Body.Close()
			}
			return err == nil && res.StatusCode == 200
		})
		return cmd, &logs
	}
	get := func(path string) string {
		t.Helper()
		res, err := http.Get("http://" + addr + path)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, res, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}

	cmd, logs := start()
	if page := get("/"); !strings.Contains(page, "/_sim/assets/whop-host.js") {
		t.Errorf("parent page:\n%.400s", page)
	}
	host := get("/_sim/assets/whop-host.js")
	bundled := !strings.Contains(host, "WhopHostMissing")
	if _, err := os.Stat("../../internal/whopsim/assets/dist/whop-host.js"); err == nil && !bundled {
		t.Error("the binary was built after `make assets` but serves no host bundle")
	} else if err != nil && os.Getenv("CI") != "" {
		t.Error("under CI the host bundle must exist before the build (make assets)")
	}
	if bundled && (len(host) < 10_000 || strings.Contains(logs.String(), "built without the iframe host bundle")) {
		t.Errorf("host bundle of %d bytes; logs:\n%s", len(host), logs.String())
	}
	out := cli(t, sandboxAt(addr), "trigger", "payment.succeeded", "--user", "@alice")
	pay := strings.Fields(out[strings.Index(out, "payment "):])[1]
	tok := strings.TrimSpace(cli(t, sandboxAt(addr), "token", "--user", "@bob"))
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("no state file: %v", err)
	}

	start()
	if js := cli(t, sandboxAt(addr), "deliveries", "--json"); !strings.Contains(js, `"type": "payment.succeeded"`) {
		t.Errorf("deliveries after a restart:\n%s", js)
	}
	if tok2 := strings.TrimSpace(cli(t, sandboxAt(addr), "token", "--user", "@bob")); tok2 == "" ||
		strings.Split(tok2, ".")[0] != strings.Split(tok, ".")[0] {
		t.Errorf("the token header (kid) changed across the restart: %s vs %s", tok, tok2)
	}
	// The payment made before the restart is there to refund.
	if out := cli(t, sandboxAt(addr), "trigger", "refund.created", "--payment", pay); !strings.Contains(out, "sent refund.updated") {
		t.Errorf("refunding %s after a restart:\n%s", pay, out)
	}
}

// sandboxAt names a sandbox running at addr for cli.
func sandboxAt(addr string) *whopsimtest.Env { return &whopsimtest.Env{URL: "http://" + addr} }
