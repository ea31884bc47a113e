package whopsim

import (
	"fmt"
	"slices"
	"strings"
)

// Faults are the switches that make the sandbox misbehave the ways Whop can:
// webhooks duplicated, reordered, lost, stale or forged; an API that is slow
// or failing; user tokens that must be refused. Counters ("…Next") apply to
// that many upcoming deliveries and count down; the rest stay until changed.
// Endpoints deliver independently, so when several are sending at once a
// counter goes to whichever attempt is made first.
type Faults struct {
	// DropNext loses the next N delivery attempts that would be sent (an
	// attempt with no webhook URL does not count): nothing is sent and no
	// retry follows, as when Whop's delivery never arrives.
	DropNext int `json:"drop_next"`
	// DuplicateNext delivers each of the next N new events twice.
	DuplicateNext int `json:"duplicate_next"`
	// HoldNext holds the next N new events back and then delivers them
	// together in shuffled order (see Sim.ReleaseHeld to let go early).
	HoldNext int `json:"hold_next"`
	// BadSignatureNext signs the next N attempts sent with the wrong secret.
	BadSignatureNext int `json:"bad_signature_next"`
	// TimestampSkewSeconds shifts the signed timestamp of every attempt:
	// -400 sends stale deliveries, 400 ones from the future.
	TimestampSkewSeconds int `json:"timestamp_skew_seconds"`

	// APILatencyMS delays every API response.
	APILatencyMS int `json:"api_latency_ms"`
	// APIFailureRate is the share (0..1) of API requests that fail with
	// APIFailureStatus (default 500); 429 comes with Retry-After.
	APIFailureRate    float64 `json:"api_failure_rate"`
	APIFailureStatus  int     `json:"api_failure_status"`
	RetryAfterSeconds int     `json:"retry_after_seconds"`
	// TransferLatencyMS delays every POST /transfers by this much before
	// the transfer is made (other calls are not slowed): a slow payouts API.
	TransferLatencyMS int `json:"transfer_latency_ms"`
	// TransferHangRate is the share (0..1) of POST /transfers that make the
	// transfer and then never answer: the request hangs until the client
	// gives up (its timeout). The money has moved; only a retry with the
	// same idempotence_key tells the client so.
	TransferHangRate float64 `json:"transfer_hang_rate"`

	// Token makes the relay send bad user tokens (see TokenFault).
	Token TokenFault `json:"token"`
}

// TokenFault names a way the relay's user token can be wrong.
type TokenFault string

// Token faults. TokenNoKID is not an error: Whop's legacy tokens carry no
// kid and a verifier must try every key, so it tests that path.
const (
	TokenOK         TokenFault = ""
	TokenExpired    TokenFault = "expired"
	TokenWrongAud   TokenFault = "wrong_aud"
	TokenWrongIss   TokenFault = "wrong_iss"
	TokenMissing    TokenFault = "missing"
	TokenNoKID      TokenFault = "no_kid"
	TokenUnknownKID TokenFault = "unknown_kid"
)

// tokenFaults are the faults TokenFault.check accepts, in the order its
// message names them.
var tokenFaults = []TokenFault{TokenExpired, TokenWrongAud, TokenWrongIss, TokenMissing, TokenNoKID, TokenUnknownKID}

// check says which faults there are when f is none of them.
func (f TokenFault) check() error {
	if f == TokenOK || slices.Contains(tokenFaults, f) {
		return nil
	}
	names := make([]string, len(tokenFaults))
	for i, k := range tokenFaults {
		names[i] = string(k)
	}
	return fmt.Errorf("unknown token fault %q: want one of %s (or none)", f, strings.Join(names, ", "))
}

// Faults returns the current fault switches.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetFaults replaces the fault switches; Faults{} turns them all off.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// UpdateFaults changes some switches atomically, e.g.
// sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 }).
func (s *Sim) UpdateFaults(change func(*Faults)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(&s.faults)
}

// takeCounter decrements a "…Next" counter under the lock and reports
// whether it applied to this use.
func takeCounter(n *int) bool {
	if *n > 0 {
		*n--
		return true
	}
	return false
}
