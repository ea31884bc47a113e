package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// TestPrintEnvLeavesWhatIsLeftToServe: make dev runs `serve --print-env`
// on the state file before the app is up. That run must neither send what
// the last sandbox left undone nor rewrite the file; the sandbox serving
// afterwards sends it.
func TestPrintEnvLeavesWhatIsLeftToServe(t *testing.T) {
	file := filepath.Join(t.TempDir(), "whopsim.json")
	rcv := whopsimtest.NewReceiver(t)
	env := whopsimtest.Start(t, whopsimtest.Config{Options: whopsim.Options{
		WebhookURL: rcv.URL, PaymentDelay: -1, StateFile: file}})
	env.Sim.UpdateFaults(func(f *whopsim.Faults) { f.HoldNext = 2 })
	out := cli(t, env, "trigger", "payment.succeeded", "--user", "@bob") // held, waiting for one more
	m := msgID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("trigger output:\n%s", out)
	}
	if err := env.Sim.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	beforeInfo, _ := os.Stat(file)

	var printed bytes.Buffer
	if err := run(context.Background(), []string{"--print-env", "--state-file", file, "--webhook-url", rcv.URL}, &printed, &printed); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(file)
	afterInfo, _ := os.Stat(file)
	if !bytes.Equal(after, before) || !os.SameFile(beforeInfo, afterInfo) {
		t.Errorf("--print-env rewrote the state file")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- run(ctx, []string{"--addr", freeAddr(t), "--relay-addr", freeAddr(t), "--app", "http://" + freeAddr(t),
			"--webhook-url", rcv.URL, "--state-file", file}, &logs, &logs)
	}()
	waitFor(t, "the held delivery, sent by serve", func() bool { return len(rcv.Deliveries()) == 1 })
	if got := rcv.Deliveries()[0].Header.Get("Webhook-Id"); got != m[2] {
		t.Errorf("serve sent %s, want the held %s", got, m[2])
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
