package whop_test

// The client against the sandbox (internal/whopsim), whose JSON is written
// from the protocol notes rather than from this package's types, so these
// tests check the client against something it was not written to agree with.

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// sandbox starts a sandbox and a client pointed at it. Retries sleep in
// sleeps instead of the wall clock.
func sandbox(t *testing.T, opts whopsim.Options) (*whop.Client, *whopsimtest.Env, *[]time.Duration) {
	t.Helper()
	if opts.PaymentDelay == 0 {
		opts.PaymentDelay = -1
	}
	env := whopsimtest.Start(t, whopsimtest.Config{Options: opts})
	var sleeps []time.Duration
	c := whop.New(env.Seed.App.APIKey, whop.WithBaseURL(env.APIBase), whop.WithAppID(env.Seed.App.ID),
		whop.WithSleep(func(ctx context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }))
	return c, env, &sleeps
}

// buy creates an inline checkout for price cents and pays it as alice.
func buy(t *testing.T, c *whop.Client, env *whopsimtest.Env, price int64, meta map[string]string) (*whop.CheckoutConfiguration, string) {
	t.Helper()
	co, err := c.CreateCheckoutConfiguration(context.Background(), whop.CheckoutConfigurationParams{
		CompanyID: env.Seed.Owner.ID, Plan: &whop.InlinePlan{Currency: money.USD, InitialPrice: price}, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.Sim.Pay(whopsim.Purchase{CheckoutID: co.ID, PlanID: co.PlanID, UserID: env.Seed.Members[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	return co, res.ReceiptID
}

func TestSandboxCheckoutConfiguration(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	ctx := context.Background()
	params := whop.CheckoutConfigurationParams{CompanyID: env.Seed.Owner.ID,
		Plan: &whop.InlinePlan{Currency: money.USD, InitialPrice: 499}, Metadata: map[string]string{"purchase_id": "pur_1"},
		RedirectURL: "https://app.example/return", IdempotencyKey: "charge-1"}
	co, err := c.CreateCheckoutConfiguration(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(co.ID, "ch_") || !strings.HasPrefix(co.PlanID, "plan_") || co.CompanyID != env.Seed.Owner.ID ||
		co.PurchaseURL != env.URL+"/checkout/"+co.PlanID+"?session="+co.ID || co.Metadata["purchase_id"] != "pur_1" {
		t.Errorf("checkout configuration = %+v", co)
	}
	again, err := c.CreateCheckoutConfiguration(ctx, params)
	if err != nil || again.ID != co.ID {
		t.Errorf("the same Idempotency-Key made %+v (%v), want %s again", again, err, co.ID)
	}
	premium, err := c.CreateCheckoutConfiguration(ctx, whop.CheckoutConfigurationParams{PlanID: env.Seed.PremiumPlanID})
	if err != nil || premium.PlanID != env.Seed.PremiumPlanID || premium.CompanyID != env.Seed.Owner.ID {
		t.Errorf("plan_id configuration = %+v, %v", premium, err)
	}
}

func TestSandboxTransferReplayAndLedger(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	ctx := context.Background()
	p := whop.TransferParams{Amount: 1250, Currency: money.USD, OriginID: env.Seed.Owner.ID,
		DestinationID: env.Seed.Admin.ID, IdempotenceKey: "payout_1", Notes: "revenue share",
		Metadata: map[string]string{"payout_id": "po_1"}}
	first, err := c.CreateTransfer(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.ID, "ctt_") || first.Amount != 1250 || first.FeeAmount != 25 || first.Currency != money.USD ||
		first.OriginID != env.Seed.Owner.ID || first.DestinationID != env.Seed.Admin.ID ||
		first.OriginLedgerAccountID != env.Seed.Owner.LedgerID || first.Notes != "revenue share" ||
		first.Metadata["payout_id"] != "po_1" || first.CreatedAt.IsZero() {
		t.Errorf("transfer = %+v", first)
	}
	replay, err := c.CreateTransfer(ctx, p)
	if err != nil || replay.ID != first.ID {
		t.Errorf("replay = %+v, %v; want transfer %s again", replay, err, first.ID)
	}
	p.Amount = 1300
	_, err = c.CreateTransfer(ctx, p)
	var apiErr *whop.APIError
	if !errors.Is(err, whop.ErrBadRequest) || !errors.As(err, &apiErr) || apiErr.Code != "idempotency_key_mismatch" {
		t.Errorf("same key, other amount: %v, want 400 idempotency_key_mismatch", err)
	}

	for _, id := range []string{env.Seed.Owner.ID, env.Seed.Owner.LedgerID, env.Seed.Admin.ID} {
		l, err := c.GetLedgerAccount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		bal, _ := l.Balance(money.USD)
		if id == env.Seed.Admin.ID {
			if bal.Balance != 1250 || l.OwnerID != id {
				t.Errorf("recipient ledger = %+v", l)
			}
		} else if l.ID != env.Seed.Owner.LedgerID || l.OwnerID != env.Seed.Owner.ID || l.LedgerType != "primary" ||
			l.TransferFee != 25 || l.TransferFeeCurrency != money.USD || bal.Balance != 100000-1250-25 {
			t.Errorf("ledger %s = %+v", id, l)
		}
	}
	for _, bad := range []struct {
		p    whop.TransferParams
		want error
	}{
		{whop.TransferParams{Amount: 100, DestinationID: "user_nobody0000000"}, whop.ErrNotFound},
		{whop.TransferParams{Amount: 10_000_000, DestinationID: env.Seed.Admin.ID}, whop.ErrBadRequest},
	} {
		bad.p.Currency, bad.p.OriginID, bad.p.IdempotenceKey = money.USD, env.Seed.Owner.ID, "payout_"+bad.p.DestinationID
		if _, err := c.CreateTransfer(ctx, bad.p); !errors.Is(err, bad.want) {
			t.Errorf("transfer %+v: %v, want %v", bad.p, err, bad.want)
		}
	}
}

func TestSandboxAccessAndDirectory(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	ctx := context.Background()
	sd := env.Seed
	for _, tt := range []struct {
		user, resource string
		want           whop.Access
	}{
		{sd.Admin.ID, sd.Creator.ID, whop.Access{HasAccess: true, Level: whop.AccessAdmin}},
		{sd.Admin.ID, sd.Creator.ExperienceID, whop.Access{HasAccess: true, Level: whop.AccessAdmin}},
		{sd.Members[0].ID, sd.Creator.ExperienceID, whop.Access{HasAccess: true, Level: whop.AccessCustomer}},
		{sd.Members[0].ID, sd.PremiumProductID, whop.Access{Level: whop.AccessNone}},
		{sd.Members[2].ID, sd.PremiumProductID, whop.Access{HasAccess: true, Level: whop.AccessCustomer}},
		{sd.NoAccess.ID, sd.Creator.ExperienceID, whop.Access{Level: whop.AccessNone}},
	} {
		got, err := c.CheckAccess(ctx, tt.user, tt.resource)
		if err != nil || got != tt.want {
			t.Errorf("CheckAccess(%s, %s) = %+v, %v; want %+v", tt.user, tt.resource, got, err, tt.want)
		}
	}
	for _, id := range []string{sd.Members[0].ID, "alice"} {
		u, err := c.GetUser(ctx, id)
		if err != nil || u.ID != sd.Members[0].ID || u.Username != "alice" || u.Name != "Alice Member" {
			t.Errorf("GetUser(%s) = %+v, %v", id, u, err)
		}
	}
	exp, err := c.GetExperience(ctx, sd.Creator.ExperienceID)
	if err != nil || exp.ID != sd.Creator.ExperienceID || exp.Name != "Credits" || exp.CompanyID != sd.Creator.ID {
		t.Errorf("GetExperience = %+v, %v", exp, err)
	}
	co, err := c.GetCompany(ctx, sd.Creator.ID)
	if err != nil || co.ID != sd.Creator.ID || co.Title != "Pixel Guild" || co.Route != "pixel-guild" {
		t.Errorf("GetCompany = %+v, %v", co, err)
	}
	if _, err := c.GetUser(ctx, "nobody"); !errors.Is(err, whop.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

// coreFields are what every payment generation reports alike (PROTOCOL §3).
type coreFields struct {
	Status                                                            whop.PaymentStatus
	Currency                                                          money.Currency
	Total, Subtotal, RefundedAmount                                   int64
	ID, UserID, PlanID, ProductID, CompanyID, MembershipID, CardLast4 string
	CreatedAt, PaidAt, RefundedAt                                     time.Time
}

func core(p *whop.Payment) coreFields {
	sec := func(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
	return coreFields{ID: p.ID, Status: p.Status, Currency: p.Currency, Total: p.Total, Subtotal: p.Subtotal,
		RefundedAmount: p.RefundedAmount, UserID: p.UserID, PlanID: p.PlanID, ProductID: p.ProductID,
		CompanyID: p.CompanyID, MembershipID: p.MembershipID, CardLast4: p.CardLast4,
		CreatedAt: sec(p.CreatedAt), PaidAt: sec(p.PaidAt), RefundedAt: sec(p.RefundedAt)}
}

func TestSandboxPaymentGenerationsAgree(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	ctx := context.Background()
	co, pay := buy(t, c, env, 2499, map[string]string{"purchase_id": "pur_g"})
	check := func(state string) {
		t.Helper()
		v1, err1 := c.GetPayment(ctx, pay)
		v2, err2 := c.GetPaymentV2(ctx, pay, "user")
		v5, err5 := c.GetPaymentV5(ctx, pay)
		if err := errors.Join(err1, err2, err5); err != nil {
			t.Fatal(err)
		}
		if core(v1) != core(v2) || core(v1) != core(v5) {
			t.Errorf("%s: the generations disagree:\nv1 %+v\nv2 %+v\nv5 %+v", state, core(v1), core(v2), core(v5))
		}
		if v1.Total != 2499 || v1.UserID != env.Seed.Members[0].ID || v1.CheckoutConfigurationID != co.ID ||
			v1.Metadata["purchase_id"] != "pur_g" || v1.AmountAfterFees != v5.AmountAfterFees || !maps.Equal(v1.Metadata, v5.Metadata) {
			t.Errorf("%s: v1 %+v / v5 %+v", state, v1, v5)
		}
	}
	check("paid")
	if _, err := c.RefundPayment(ctx, pay, whop.RefundParams{Partial: &money.Amount{Minor: 999, Currency: money.USD}}); err != nil {
		t.Fatal(err)
	}
	check("partly refunded")
}

func TestSandboxListPaymentsToTheEnd(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	var want []string
	var target *whop.CheckoutConfiguration
	for i := range 5 {
		co, pay := buy(t, c, env, 100+int64(i), nil)
		want = append([]string{pay}, want...) // newest first
		target = co
	}
	var got []string
	for p, err := range c.ListPayments(context.Background(), whop.ListPaymentsParams{CompanyID: env.Seed.Owner.ID, PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	var one []string
	for p, err := range c.ListPayments(context.Background(), whop.ListPaymentsParams{CompanyID: env.Seed.Owner.ID,
		CheckoutConfigurationIDs: []string{target.ID}, Statuses: []whop.PaymentStatus{whop.PaymentPaid}}) {
		if err != nil {
			t.Fatal(err)
		}
		one = append(one, p.ID)
	}
	if len(one) != 1 || one[0] != want[0] {
		t.Errorf("by checkout configuration: %v, want [%s]", one, want[0])
	}
}

// TestSandboxListPaymentsWhileOneLeavesTheFilter: a reconciler pages
// through succeeded payments while one it has just read is refunded. The
// sandbox's next page goes on after it, so each payment is read once.
func TestSandboxListPaymentsWhileOneLeavesTheFilter(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	var want []string
	for i := range 5 {
		_, pay := buy(t, c, env, 100+int64(i), nil)
		want = append([]string{pay}, want...) // newest first
	}
	var got []string
	for p, err := range c.ListPayments(context.Background(), whop.ListPaymentsParams{CompanyID: env.Seed.Owner.ID,
		Substatuses: []whop.PaymentSubstatus{whop.SubstatusSucceeded}, PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
		if len(got) == 2 { // the last of the first page
			if err := env.Sim.Refund(p.ID, 0); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) > 10 {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v: each once, though the second was refunded while paging", got, want)
	}
}

func TestSandboxMemberships(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	ctx := context.Background()
	var got []*whop.Membership
	for m, err := range c.ListMemberships(ctx, whop.ListMembershipsParams{CompanyID: env.Seed.Owner.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	carol := env.Seed.Members[2].ID
	if len(got) != 1 || got[0].UserID != carol || got[0].ProductID != env.Seed.PremiumProductID ||
		got[0].PlanID != env.Seed.PremiumPlanID || got[0].Status != whop.MembershipActive || !got[0].Valid {
		t.Fatalf("owner memberships = %+v", got)
	}
	m, err := c.GetMembership(ctx, got[0].ID)
	if err != nil || m.ID != got[0].ID || m.CompanyID != env.Seed.Owner.ID || m.RenewalPeriodEnd.IsZero() {
		t.Errorf("GetMembership = %+v, %v", m, err)
	}
	if err := env.Sim.DeactivateMembership(m.ID); err != nil {
		t.Fatal(err)
	}
	if m, err = c.GetMembership(ctx, m.ID); err != nil || m.Valid || m.Status != whop.MembershipCanceled {
		t.Errorf("after deactivation = %+v, %v", m, err)
	}
}

func TestSandboxFreshPaymentIsNotFoundAtFirst(t *testing.T) {
	clock := whopsim.NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	c, env, _ := sandbox(t, whopsim.Options{Clock: clock, PaymentDelay: 2 * time.Second})
	_, pay := buy(t, c, env, 499, nil)
	if _, err := c.GetPayment(context.Background(), pay); !errors.Is(err, whop.ErrNotFound) {
		t.Errorf("right after checkout: %v, want ErrNotFound", err)
	}
	clock.Advance(2 * time.Second)
	if p, err := c.GetPayment(context.Background(), pay); err != nil || !p.IsPaid() {
		t.Errorf("two seconds later: %+v, %v", p, err)
	}
}

func TestSandboxRateLimitIsRetried(t *testing.T) {
	c, env, sleeps := sandbox(t, whopsim.Options{})
	env.Sim.SetFaults(whopsim.Faults{APIFailureRate: 1, APIFailureStatus: 429, RetryAfterSeconds: 3})
	_, err := c.GetUser(context.Background(), "alice")
	var apiErr *whop.APIError
	if !errors.Is(err, whop.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RetryAfter != 3*time.Second {
		t.Errorf("always 429: %v, want ErrRateLimited with Retry-After 3 s", err)
	}
	if !slices.Equal(*sleeps, []time.Duration{3 * time.Second, 3 * time.Second}) {
		t.Errorf("waits = %v, want Retry-After twice", *sleeps)
	}
	env.Sim.SetFaults(whopsim.Faults{APIFailureRate: 1, APIFailureStatus: 503})
	if _, err := c.GetUser(context.Background(), "alice"); !errors.Is(err, whop.ErrServer) {
		t.Errorf("always 503: %v, want ErrServer", err)
	}
}
