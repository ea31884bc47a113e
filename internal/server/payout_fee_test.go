package server_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
)

// eurLedgers rewrites the sandbox's ledger accounts as held in euros: Whop
// then reports the transfer fee in euros too, while payouts are in dollars.
type eurLedgers struct{}

func (eurLedgers) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/ledger_accounts/") {
		return res, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(bytes.ReplaceAll(b, []byte(`"currency":"usd"`), []byte(`"currency":"eur"`))))
	res.ContentLength = -1
	return res, nil
}

// TestPayoutRefusesAFeeInAnotherCurrency: a fee in euros cannot be added to
// a payout in dollars to check the balance; the payout is refused with a
// clear reason and nothing is recorded or sent. The dashboard shows the fee
// in its own currency.
func TestPayoutRefusesAFeeInAnotherCurrency(t *testing.T) {
	a := setup(t, withClient(whop.WithHTTPClient(&http.Client{Transport: eurLedgers{}, Timeout: 5 * time.Second})))
	creator := a.env.Seed.Creator
	before := a.world()
	code, out, raw := a.payout(map[string]any{"company_id": creator.ID, "recipient": "alice", "amount": "1.00", "idempotency_key": "k-eur"})
	e, _ := out["error"].(map[string]any)
	if code != http.StatusUnprocessableEntity || e["code"] != "fee_currency_mismatch" ||
		e["message"] != "Whop reports the transfer fee in EUR but payouts are in USD, so the balance cannot be checked against the amount plus the fee. Nothing was sent." {
		t.Fatalf("payout: %d %s", code, raw)
	}
	if n := a.count(`SELECT count(*) FROM payouts`); n != 0 {
		t.Fatalf("payouts recorded = %d, want 0", n)
	}
	if w := a.world(); len(w.Transfers) != len(before.Transfers) || w.ledgerBalance(creator.LedgerID) != before.ledgerBalance(creator.LedgerID) {
		t.Fatal("the sandbox moved money")
	}
	_, body := a.get("/dashboard/"+creator.ID, a.env.Seed.Admin.ID)
	if fee := parsePage(t, body).text("payout-fee"); fee != "€0.25" {
		t.Errorf("fee shown = %q, want €0.25", fee)
	}
}
