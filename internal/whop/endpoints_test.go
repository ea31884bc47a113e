package whop

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

func TestCreateCheckoutConfigurationInlinePlan(t *testing.T) {
	c, f := setup(t, replyJSON(`{"id":"ch_1","company_id":"biz_1","mode":"payment",
		"plan":{"id":"plan_9","initial_price":4.99,"currency":"usd","plan_type":"one_time"},
		"purchase_url":"https://whop.com/checkout/plan_9?session=ch_1","metadata":{"purchase_id":"pur_1","n":3}}`))
	got, err := c.CreateCheckoutConfiguration(t.Context(), CheckoutConfigurationParams{
		CompanyID:      "biz_1",
		Plan:           &InlinePlan{Currency: money.USD, InitialPrice: 499},
		Metadata:       map[string]string{"purchase_id": "pur_1"},
		RedirectURL:    "https://app.example/done",
		IdempotencyKey: "charge-pur_1",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := only(t, f)
	assertRequest(t, r, http.MethodPost, "/api/v1/checkout_configurations")
	if r.Header.Get("Idempotency-Key") != "charge-pur_1" {
		t.Errorf("Idempotency-Key = %q", r.Header.Get("Idempotency-Key"))
	}
	assertJSONBody(t, r.Body, `{"plan":{"company_id":"biz_1","currency":"usd",
		"initial_price":4.99,"plan_type":"one_time"},"metadata":{"purchase_id":"pur_1"},
		"redirect_url":"https://app.example/done"}`)
	if !strings.Contains(string(r.Body), `"initial_price":4.99`) {
		t.Errorf("price not sent as the exact number 4.99: %s", r.Body)
	}
	want := CheckoutConfiguration{ID: "ch_1", PlanID: "plan_9", CompanyID: "biz_1",
		PurchaseURL: "https://whop.com/checkout/plan_9?session=ch_1"}
	if got.ID != want.ID || got.PlanID != want.PlanID || got.CompanyID != want.CompanyID || got.PurchaseURL != want.PurchaseURL {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if len(got.Metadata) != 2 || got.Metadata["purchase_id"] != "pur_1" || got.Metadata["n"] != "3" {
		t.Errorf("metadata = %v", got.Metadata)
	}
}

func TestCreateCheckoutConfigurationRenewalAndPlanID(t *testing.T) {
	c, f := setup(t, replyJSON(`{"id":"ch_2","plan":{"id":"plan_prem"},"purchase_url":"u"}`))
	if _, err := c.CreateCheckoutConfiguration(t.Context(), CheckoutConfigurationParams{
		CompanyID: "biz_1",
		Plan:      &InlinePlan{Currency: money.JPY, InitialPrice: 500, PlanType: PlanRenewal, RenewalPrice: 1000, BillingPeriod: 30},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := c.CreateCheckoutConfiguration(t.Context(), CheckoutConfigurationParams{
		PlanID: "plan_prem", Metadata: map[string]string{"experience_id": "exp_1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("made %d requests", len(reqs))
	}
	assertJSONBody(t, reqs[0].Body, `{"plan":{"company_id":"biz_1","currency":"jpy",
		"initial_price":500,"plan_type":"renewal","renewal_price":1000,"billing_period":30}}`)
	assertJSONBody(t, reqs[1].Body, `{"plan_id":"plan_prem","metadata":{"experience_id":"exp_1"}}`)
	if reqs[1].Header.Get("Idempotency-Key") != "" {
		t.Errorf("sent an Idempotency-Key nobody asked for")
	}
	if got.ID != "ch_2" || got.PlanID != "plan_prem" || got.PurchaseURL != "u" || got.Metadata != nil {
		t.Errorf("got %+v", got)
	}
}

func TestCreateCheckoutConfigurationRefusesBadParams(t *testing.T) {
	c, f := setup(t, replyJSON(`{}`))
	plan := &InlinePlan{Currency: money.USD, InitialPrice: 100}
	for name, p := range map[string]CheckoutConfigurationParams{
		"neither":     {CompanyID: "biz_1"},
		"both":        {CompanyID: "biz_1", Plan: plan, PlanID: "plan_1"},
		"no company":  {Plan: plan},
		"no currency": {CompanyID: "biz_1", Plan: &InlinePlan{InitialPrice: 100}},
		"negative":    {CompanyID: "biz_1", Plan: &InlinePlan{Currency: money.USD, InitialPrice: -1}},
	} {
		if _, err := c.CreateCheckoutConfiguration(t.Context(), p); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("invalid params still sent %d requests", n)
	}
}

func TestCreateTransfer(t *testing.T) {
	c, f := setup(t, replyJSON(`{"id":"xfer_1","amount":"12.5","currency":"usd","created_at":"2025-01-01T00:00:00.000Z",
		"origin":{"id":"biz_1","typename":"Company"},"destination":{"id":"user_2","typename":"User","username":"bob"},
		"origin_ledger_account_id":"ldgr_a","destination_ledger_account_id":"ldgr_b","fee_amount":0.25,"notes":"thanks"}`))
	got, err := c.CreateTransfer(t.Context(), TransferParams{Amount: 1250, Currency: money.USD, OriginID: "biz_1",
		DestinationID: "user_2", IdempotenceKey: "payout-42", Notes: "thanks", Metadata: map[string]string{"payout": "42"}})
	if err != nil {
		t.Fatal(err)
	}
	r := only(t, f)
	assertRequest(t, r, http.MethodPost, "/api/v1/transfers")
	if r.Header.Get("Idempotency-Key") != "payout-42" {
		t.Errorf("Idempotency-Key = %q", r.Header.Get("Idempotency-Key"))
	}
	assertJSONBody(t, r.Body, `{"amount":12.5,"currency":"usd","origin_id":"biz_1","destination_id":"user_2",
		"idempotence_key":"payout-42","notes":"thanks","metadata":{"payout":"42"}}`)
	want := Transfer{ID: "xfer_1", Amount: 1250, Currency: money.USD, FeeAmount: 25,
		CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), OriginID: "biz_1", DestinationID: "user_2",
		OriginLedgerAccountID: "ldgr_a", DestinationLedgerAccountID: "ldgr_b", Notes: "thanks"}
	if got.ID != want.ID || got.Amount != want.Amount || got.Currency != want.Currency || got.FeeAmount != want.FeeAmount ||
		!got.CreatedAt.Equal(want.CreatedAt) || got.OriginID != want.OriginID || got.DestinationID != want.DestinationID ||
		got.OriginLedgerAccountID != want.OriginLedgerAccountID || got.DestinationLedgerAccountID != want.DestinationLedgerAccountID ||
		got.Notes != want.Notes || got.Metadata != nil {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestCreateTransferRefusesBadParams(t *testing.T) {
	c, f := setup(t, replyJSON(`{}`))
	ok := TransferParams{Amount: 1, Currency: money.USD, OriginID: "biz_1", DestinationID: "user_1", IdempotenceKey: "k"}
	for name, mut := range map[string]func(*TransferParams){
		"zero amount": func(p *TransferParams) { p.Amount = 0 },
		"negative":    func(p *TransferParams) { p.Amount = -5 },
		"no currency": func(p *TransferParams) { p.Currency = "" },
		"no origin":   func(p *TransferParams) { p.OriginID = "" },
		"no dest":     func(p *TransferParams) { p.DestinationID = "" },
		"no key":      func(p *TransferParams) { p.IdempotenceKey = "" },
	} {
		p := ok
		mut(&p)
		if _, err := c.CreateTransfer(t.Context(), p); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("sent %d requests", n)
	}
}

func TestGetLedgerAccount(t *testing.T) {
	c, f := setup(t, replyJSON(`{"id":"ldgr_1","ledger_type":"primary","owner":{"id":"biz_1","typename":"Company","title":"Acme"},
		"balances":[{"currency":"eur","balance":10.5,"pending_balance":"0","reserve_balance":null},
		{"currency":"usd","balance":1234.56,"pending_balance":7.01,"reserve_balance":2}],"transfer_fee":0.3,
		"ledger_account_audit_status":null}`))
	got, err := c.GetLedgerAccount(t.Context(), "biz_1")
	if err != nil {
		t.Fatal(err)
	}
	assertRequest(t, only(t, f), http.MethodGet, "/api/v1/ledger_accounts/biz_1")
	if got.ID != "ldgr_1" || got.OwnerID != "biz_1" || got.LedgerType != "primary" || got.TransferFee != 30 ||
		got.TransferFeeCurrency != money.USD || len(got.Balances) != 2 {
		t.Fatalf("got %+v", got)
	}
	if b := got.Balances[0]; b != (Balance{Currency: money.EUR, Balance: 1050}) {
		t.Errorf("eur balance = %+v", b)
	}
	usd, ok := got.Balance(money.USD)
	if !ok || usd != (Balance{Currency: money.USD, Balance: 123456, PendingBalance: 701, ReserveBalance: 200}) {
		t.Errorf("usd balance = %+v, %v", usd, ok)
	}
	if _, ok := got.Balance(money.JPY); ok {
		t.Errorf("found a jpy balance that is not there")
	}
}

// TestALedgerBalancePastMaxAmountIsRead: a balance is not a payment's
// amount (nothing sums balances), so one past MaxAmount is read as it is;
// a company holding that much rupiah can still pay out in dollars.
func TestALedgerBalancePastMaxAmountIsRead(t *testing.T) {
	c, _ := setup(t, replyJSON(`{"id":"ldgr_1","ledger_type":"primary","owner":{"id":"biz_1"},
		"balances":[{"currency":"idr","balance":20000000000000.00,"pending_balance":0,"reserve_balance":0},
		{"currency":"usd","balance":12.5,"pending_balance":0,"reserve_balance":0}],"transfer_fee":0.25}`))
	got, err := c.GetLedgerAccount(t.Context(), "biz_1")
	if err != nil {
		t.Fatal(err)
	}
	if idr, ok := got.Balance(money.Currency("idr")); !ok || idr.Balance != 2_000_000_000_000_000 || idr.Balance <= MaxAmount {
		t.Fatalf("idr balance = %+v, %v", idr, ok)
	}
	if usd, ok := got.Balance(money.USD); !ok || usd.Balance != 1250 || got.TransferFee != 25 {
		t.Fatalf("usd balance = %+v, %v; fee %d", usd, ok, got.TransferFee)
	}
}
