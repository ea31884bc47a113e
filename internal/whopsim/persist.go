package whopsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The optional state file: `make dev` passes one so payments, deliveries
// and the selected user survive a restart of the sandbox.

// persistLocked saves the state when a file is configured. A failure is
// logged, not returned: losing dev history must not fail a purchase.
func (s *Sim) persistLocked() {
	if err := s.saveLocked(); err != nil {
		s.log.Error("whopsim: saving state", "err", err)
	}
}

// saveLocked writes the state file atomically (temp file, then rename), so
// a crash mid-write leaves the previous state intact.
func (s *Sim) saveLocked() error {
	if s.opts.StateFile == "" {
		return nil
	}
	s.st.SavedAt = s.clock.Now()
	b, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return fmt.Errorf("whopsim: encoding state: %w", err)
	}
	dir := filepath.Dir(s.opts.StateFile)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("whopsim: saving state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".whopsim-state-*")
	if err != nil {
		return fmt.Errorf("whopsim: saving state: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("whopsim: saving state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("whopsim: saving state: %w", err)
	}
	return os.Rename(tmp.Name(), s.opts.StateFile)
}

// load replaces the seeded state with the file's, if the file exists. A
// state saved by a different seed (another app id) is refused rather than
// mixed in, since its ids would not match what .env names.
func (s *Sim) load(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("whopsim: loading state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("whopsim: loading state %s: %w", path, err)
	}
	if st.App.ID != s.seed.App.ID {
		return fmt.Errorf("whopsim: state file %s belongs to app %s, not the seeded %s; delete it to start afresh",
			path, st.App.ID, s.seed.App.ID)
	}
	fresh, _ := seedState()
	fillMaps(&st, fresh)
	// A request that was running when the sandbox stopped will never
	// finish; keeping its key would answer 409 to every retry.
	for k, rec := range st.Idempotency {
		if !rec.Done {
			delete(st.Idempotency, k)
		}
	}
	s.st = &st
	return nil
}

// fillMaps gives a loaded state empty maps where the file had none, so an
// older or hand-edited file cannot cause nil-map panics.
func fillMaps(st, fresh *State) {
	if st.Companies == nil {
		st.Companies = fresh.Companies
	}
	if st.Users == nil {
		st.Users = fresh.Users
	}
	if st.Experiences == nil {
		st.Experiences = fresh.Experiences
	}
	if st.Products == nil {
		st.Products = fresh.Products
	}
	if st.Plans == nil {
		st.Plans = fresh.Plans
	}
	if st.Memberships == nil {
		st.Memberships = fresh.Memberships
	}
	if st.Ledgers == nil {
		st.Ledgers = fresh.Ledgers
	}
	if st.Checkouts == nil {
		st.Checkouts = map[string]*Checkout{}
	}
	if st.Payments == nil {
		st.Payments = map[string]*Payment{}
	}
	if st.Refunds == nil {
		st.Refunds = map[string]*Refund{}
	}
	if st.Disputes == nil {
		st.Disputes = map[string]*Dispute{}
	}
	if st.Transfers == nil {
		st.Transfers = map[string]*Transfer{}
	}
	if st.Idempotency == nil {
		st.Idempotency = map[string]*idemRecord{}
	}
	if st.TransferKeys == nil {
		st.TransferKeys = map[string]string{}
	}
}
