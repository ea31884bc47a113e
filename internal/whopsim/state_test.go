package whopsim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/whopsim"
)

func TestStateFileKeepsHistoryAcrossRestarts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state", "whopsim.json")
	withFile := func(o *whopsim.Options) { o.StateFile = file }
	b := setup(t, withFile)
	pay, _ := b.buy("4.99", map[string]any{"purchase_id": "pur_s"})
	b.idle()
	if err := b.Sim.SelectUser(b.Seed.Admin.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.Sim.Close(); err != nil {
		t.Fatal(err)
	}

	c := setup(t, withFile)
	fields(t, c.mustAPI("GET", "/api/v1/payments/"+pay, nil), map[string]string{"status": "paid", "metadata.purchase_id": "pur_s"})
	if got := c.Sim.SelectedUser(); got != c.Seed.Admin.ID {
		t.Errorf("selected user = %s, want the admin chosen before the restart", got)
	}
	if n := len(c.Sim.Deliveries()); n != 1 {
		t.Errorf("deliveries after restart = %d, want 1", n)
	}
	if n := len(c.Sim.Events()); n != 1 {
		t.Errorf("events after restart = %d, want 1", n)
	}
	if got := c.balance(c.Seed.Owner.ID); got != "1004.54" {
		t.Errorf("owner balance after restart = %s", got)
	}
}

func TestStateFileRefusals(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte("{"), 0o644)
	if _, err := whopsim.New(whopsim.Options{StateFile: broken}); err == nil {
		t.Error("a broken state file was accepted")
	}
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"app":{"id":"app_someoneelse"}}`), 0o644)
	if _, err := whopsim.New(whopsim.Options{StateFile: other}); err == nil || !strings.Contains(err.Error(), "app_someoneelse") {
		t.Errorf("another app's state: %v", err)
	}
	missing := filepath.Join(dir, "new.json")
	s, err := whopsim.New(whopsim.Options{StateFile: missing})
	if err != nil {
		t.Fatalf("a state file that does not exist yet: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(missing); err != nil {
		t.Errorf("Close did not write the state: %v", err)
	}
}
