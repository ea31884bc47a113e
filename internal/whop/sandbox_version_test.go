package whop_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// appVersion is the Api-Version-Date the app pins (WHOP_API_VERSION_DATE's
// default): the newest version Whop's changelog lists.
const appVersion = "2026-07-01"

// headerLog records the Api-Version-Date of every request a client sends.
type headerLog struct {
	mu    sync.Mutex
	dates []string
}

func (l *headerLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.dates = append(l.dates, r.Method+" "+r.URL.Path+" "+r.Header.Get("Api-Version-Date"))
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// pinnedClient is a client of a fresh sandbox pinned to date.
func pinnedClient(t *testing.T, date string) (*whop.Client, *whopsimtest.Env, *headerLog) {
	t.Helper()
	env := whopsimtest.Start(t, whopsimtest.Config{Options: whopsim.Options{PaymentDelay: -1}})
	log := &headerLog{}
	c := whop.New(env.Seed.App.APIKey, whop.WithBaseURL(env.APIBase), whop.WithAppID(env.Seed.App.ID),
		whop.WithAPIVersionDate(date), whop.WithRetry(0, 0), whop.WithHTTPClient(&http.Client{Transport: log}))
	return c, env, log
}

// TestSandboxPinnedVersionServesEveryAppCall makes each call the app makes
// with the app's pinned version and checks the answers decode to what the
// sandbox holds, so a version change that broke a shape the app reads
// would fail here.
func TestSandboxPinnedVersionServesEveryAppCall(t *testing.T) {
	c, env, log := pinnedClient(t, appVersion)
	ctx := context.Background()
	sd := env.Seed
	alice, casey := sd.Members[0], sd.Admin

	co, err := c.CreateCheckoutConfiguration(ctx, whop.CheckoutConfigurationParams{CompanyID: sd.Owner.ID,
		Plan: &whop.InlinePlan{Currency: money.USD, InitialPrice: 2499}, Metadata: map[string]string{"purchase_id": "pur_v"}})
	if err != nil {
		t.Fatalf("checkout configuration: %v", err)
	}
	if co.CompanyID != sd.Owner.ID || co.Metadata["purchase_id"] != "pur_v" || !strings.HasPrefix(co.PlanID, "plan_") {
		t.Errorf("checkout configuration = %+v", co)
	}
	premium, err := c.CreateCheckoutConfiguration(ctx, whop.CheckoutConfigurationParams{PlanID: sd.PremiumPlanID})
	if err != nil || premium.PlanID != sd.PremiumPlanID || premium.CompanyID != sd.Owner.ID {
		t.Errorf("premium checkout = %+v, %v", premium, err)
	}
	res, err := env.Sim.Pay(whopsim.Purchase{CheckoutID: co.ID, PlanID: co.PlanID, UserID: alice.ID})
	if err != nil {
		t.Fatal(err)
	}

	for _, api := range []whop.PaymentsAPI{whop.PaymentsV1, whop.PaymentsV2, whop.PaymentsV5} {
		p, err := c.GetPaymentVia(ctx, api, res.ReceiptID)
		// v2 carries no metadata; the app reads it through v1 (or v5).
		if err != nil || !p.IsPaid() || p.Total != 2499 || p.UserID != alice.ID || p.CheckoutConfigurationID != co.ID ||
			(api != whop.PaymentsV2 && p.Metadata["purchase_id"] != "pur_v") {
			t.Errorf("payment via %s = %+v, %v", api, p, err)
		}
	}
	var listed []string
	for p, err := range c.ListPayments(ctx, whop.ListPaymentsParams{CompanyID: sd.Owner.ID, Statuses: []whop.PaymentStatus{whop.PaymentPaid}}) {
		if err != nil {
			t.Fatalf("list payments: %v", err)
		}
		listed = append(listed, p.ID+" "+p.CheckoutConfigurationID)
	}
	if strings.Join(listed, ",") != res.ReceiptID+" "+co.ID {
		t.Errorf("listed payments = %v", listed)
	}
	refunded, err := c.RefundPayment(ctx, res.ReceiptID, whop.RefundParams{
		Partial: &money.Amount{Minor: 500, Currency: money.USD}, IdempotencyKey: "refund-v"})
	if err != nil || refunded.RefundedAmount != 500 || refunded.Substatus != whop.SubstatusPartiallyRefunded {
		t.Errorf("refund = %+v, %v", refunded, err)
	}

	tr, err := c.CreateTransfer(ctx, whop.TransferParams{Amount: 1000, Currency: money.USD, OriginID: sd.Owner.ID,
		DestinationID: sd.Creator.ID, IdempotenceKey: "share-v"})
	if err != nil || tr.Amount != 1000 || tr.FeeAmount != 25 || tr.OriginID != sd.Owner.ID || tr.DestinationID != sd.Creator.ID ||
		tr.OriginLedgerAccountID != sd.Owner.LedgerID || tr.DestinationLedgerAccountID != sd.Creator.LedgerID {
		t.Errorf("transfer = %+v, %v", tr, err)
	}
	l, err := c.GetLedgerAccount(ctx, sd.Creator.ID)
	if err != nil || l.ID != sd.Creator.LedgerID || l.OwnerID != sd.Creator.ID || len(l.Balances) != 1 ||
		l.Balances[0].Balance != 25000+1000 || l.TransferFee != 25 {
		t.Errorf("ledger = %+v, %v", l, err)
	}

	for _, tc := range []struct {
		user, resource string
		want           whop.AccessLevel
	}{
		{alice.ID, sd.Creator.ExperienceID, whop.AccessCustomer},
		{casey.ID, sd.Creator.ID, whop.AccessAdmin},
		{sd.NoAccess.ID, sd.Creator.ExperienceID, whop.AccessNone},
	} {
		a, err := c.CheckAccess(ctx, tc.user, tc.resource)
		if err != nil || a.Level != tc.want || a.HasAccess != (tc.want != whop.AccessNone) {
			t.Errorf("access %s to %s = %+v, %v; want %s", tc.user, tc.resource, a, err, tc.want)
		}
	}
	u, err := c.GetUser(ctx, alice.ID)
	if err != nil || u.ID != alice.ID || u.Username != "alice" || u.Name != "Alice Member" {
		t.Errorf("user = %+v, %v", u, err)
	}
	e, err := c.GetExperience(ctx, sd.Creator.ExperienceID)
	if err != nil || e.ID != sd.Creator.ExperienceID || e.CompanyID != sd.Creator.ID || e.Name != "Credits" {
		t.Errorf("experience = %+v, %v", e, err)
	}
	company, err := c.GetCompany(ctx, sd.Creator.ID)
	if err != nil || company.ID != sd.Creator.ID || company.Title != "Pixel Guild" || company.Route != "pixel-guild" {
		t.Errorf("company = %+v, %v", company, err)
	}
	var carols []string
	for m, err := range c.ListMemberships(ctx, whop.ListMembershipsParams{CompanyID: sd.Owner.ID, ProductIDs: []string{sd.PremiumProductID}}) {
		if err != nil {
			t.Fatalf("list memberships: %v", err)
		}
		carols = append(carols, m.UserID)
		got, err := c.GetMembership(ctx, m.ID)
		if err != nil || got.ID != m.ID || !got.Valid || got.PlanID != sd.PremiumPlanID || got.CompanyID != sd.Owner.ID {
			t.Errorf("membership = %+v, %v", got, err)
		}
	}
	if len(carols) != 1 || carols[0] != sd.Members[2].ID {
		t.Errorf("premium members = %v, want carol only", carols)
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	for _, d := range log.dates {
		if !strings.HasSuffix(d, " "+appVersion) {
			t.Errorf("request without the pinned version: %s", d)
		}
	}
	if len(log.dates) < 15 {
		t.Errorf("only %d requests were made: %v", len(log.dates), log.dates)
	}
}

// TestSandboxUnknownVersionIsRefused: a client pinned to a date Whop never
// published gets a 400 that names the supported versions, and changes
// nothing.
func TestSandboxUnknownVersionIsRefused(t *testing.T) {
	c, env, _ := pinnedClient(t, "2026-02-30")
	_, err := c.CreateCheckoutConfiguration(context.Background(), whop.CheckoutConfigurationParams{
		CompanyID: env.Seed.Owner.ID, Plan: &whop.InlinePlan{Currency: money.USD, InitialPrice: 499}})
	var apiErr *whop.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, whop.ErrBadRequest) || apiErr.StatusCode != 400 ||
		apiErr.Code != "invalid_api_version" || !strings.Contains(apiErr.Message, "2025-01-01, 2026-06-08, 2026-06-09") {
		t.Fatalf("err = %#v, want a 400 invalid_api_version naming the versions", err)
	}
	if _, err := c.GetUser(context.Background(), "alice"); !errors.Is(err, whop.ErrBadRequest) {
		t.Errorf("GET with the unknown version = %v, want 400", err)
	}
	if n := len(env.Sim.Events()); n != 0 {
		t.Errorf("%d events after refused requests", n)
	}
}
