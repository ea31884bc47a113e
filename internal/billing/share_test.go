package billing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

func TestShareOfRoundsDownWithoutOverflow(t *testing.T) {
	tests := []struct{ amount, bp, want int64 }{
		{499, 1250, 62},   // 62.375
		{2499, 1000, 249}, // 249.9
		{1, 9999, 0},      // never rounds up to a cent
		{100, 10000, 100}, // all of it
		{0, 1000, 0},      // nothing paid
		{499, 0, 0},       // no share configured
		{math.MaxInt64, 10000, math.MaxInt64},
		{math.MaxInt64, 5000, math.MaxInt64 / 2},
	}
	for _, tt := range tests {
		if got := shareOf(tt.amount, tt.bp); got != tt.want {
			t.Errorf("shareOf(%d, %d) = %d, want %d", tt.amount, tt.bp, got, tt.want)
		}
	}
}

// The terms leave the recipient to the ledger, which takes the purchase's
// company and records no share for a sale in the owner's own
// (TestSettleSharesOnlyOtherCompaniesSales in the ledger).
func TestShareTermsFromThePaymentAndThePercentage(t *testing.T) {
	s := &core{cfg: Config{CompanyID: "biz_owner", RevenueShareBasisPoints: 1250}}
	pay := &whop.Payment{Total: 499, Currency: money.USD}
	got := s.shareTerms(pay)
	want := ledger.ShareTerms{FromCompanyID: "biz_owner", BasisPoints: 1250, Amount: 62}
	if got == nil || *got != want {
		t.Fatalf("terms = %+v, want %+v", got, want)
	}
	if s.shareTerms(&whop.Payment{Total: 7, Currency: money.USD}) != nil {
		t.Error("a share that rounds to zero was scheduled")
	}
	s.cfg.RevenueShareBasisPoints = 0
	if s.shareTerms(pay) != nil {
		t.Error("a share without a percentage was scheduled")
	}
}

func TestTransferOutcomeRetriesWhatMaySucceed(t *testing.T) {
	api := func(status int, msg string) error { return &whop.APIError{StatusCode: status, Message: msg} }
	tests := []struct {
		name string
		t    *whop.Transfer
		err  error
		want ledger.TransferOutcome
	}{
		{"paid", &whop.Transfer{ID: "ctt_1", FeeAmount: 25}, nil, ledger.TransferOutcome{Status: ledger.TransferPaid, TransferID: "ctt_1", ChargedFee: 25}},
		{"empty answer", &whop.Transfer{}, nil, ledger.TransferOutcome{Status: ledger.TransferPending, Error: "Whop answered without a transfer id"}},
		{"refused", nil, api(400, "insufficient balance"), ledger.TransferOutcome{Status: ledger.TransferFailed, Error: "insufficient balance"}},
		{"unknown recipient", nil, api(404, "no such user"), ledger.TransferOutcome{Status: ledger.TransferFailed, Error: "no such user"}},
		{"invalid", nil, fmt.Errorf("%w: no key", whop.ErrInvalidArgument), ledger.TransferOutcome{Status: ledger.TransferFailed, Error: "whop: invalid argument: no key"}},
	}
	for _, tt := range tests {
		if got := transferOutcome(tt.t, tt.err); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	for _, err := range []error{api(http.StatusServiceUnavailable, ""), api(429, ""), api(409, "in flight"),
		api(401, "bad key"), context.DeadlineExceeded, errors.New("connection reset")} {
		if got := transferOutcome(nil, err); got.Status != ledger.TransferPending || got.Error != err.Error() {
			t.Errorf("%v: %+v, want pending with the error", err, got)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]int64{"12.50": 1250, " $3 ": 300, "0.01": 1} {
		if got, err := parseAmount(in, money.USD, "amount"); err != nil || got != want {
			t.Errorf("parseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.005", "ten", "1,000", "$"} {
		var fe *FieldError
		if _, err := parseAmount(in, money.USD, "amount"); !errors.As(err, &fe) || fe.Field != "amount" || fe.Message == "" {
			t.Errorf("parseAmount(%q): err = %v, want a FieldError", in, err)
		}
	}
	// Exponent notation is refused, however exact (README, "Payouts").
	for _, in := range []string{"1e2", "1E2", "$1e2", "1.0e+2", "10000e-2", "1e400"} {
		var fe *FieldError
		if n, err := parseAmount(in, money.USD, "amount"); !errors.As(err, &fe) || fe.Field != "amount" || n != 0 ||
			fe.Message != "Write the amount in plain digits, such as 100.00: exponent notation like 1e2 is not accepted." {
			t.Errorf("parseAmount(%q) = %d, %v; want the exponent refusal", in, n, err)
		}
	}
}
