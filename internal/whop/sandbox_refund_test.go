package whop_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

func TestSandboxRefund(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	ctx := context.Background()
	_, pay := buy(t, c, env, 499, nil)
	p, err := c.RefundPayment(ctx, pay, whop.RefundParams{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsPaid() || !p.IsRefunded() || p.Substatus != whop.SubstatusRefunded || p.RefundedAmount != 499 || p.Refundable {
		t.Errorf("after a full refund: %+v", p)
	}
	if _, err := c.RefundPayment(ctx, pay, whop.RefundParams{}); !errors.Is(err, whop.ErrBadRequest) {
		t.Errorf("a second refund: %v, want ErrBadRequest", err)
	}
	_, other := buy(t, c, env, 2499, nil)
	p, err = c.RefundPayment(ctx, other, whop.RefundParams{Partial: &money.Amount{Minor: 150, Currency: money.USD}})
	if err != nil || p.Substatus != whop.SubstatusPartiallyRefunded || p.RefundedAmount != 150 {
		t.Errorf("partial refund = %+v, %v", p, err)
	}
}

// TestSandboxRefundIdempotencyKey: a refund sent again under its key (a
// resubmitted form, a retry after a lost answer) is answered with the first
// refund and refunds nothing more; the key with another amount is refused.
func TestSandboxRefundIdempotencyKey(t *testing.T) {
	c, env, _ := sandbox(t, whopsim.Options{})
	ctx := context.Background()
	_, pay := buy(t, c, env, 2499, nil)
	part := whop.RefundParams{Partial: &money.Amount{Minor: 500, Currency: money.USD}, IdempotencyKey: "refund-form-1"}
	first, err := c.RefundPayment(ctx, pay, part)
	if err != nil || first.RefundedAmount != 500 {
		t.Fatalf("first refund: %+v, %v", first, err)
	}
	again, err := c.RefundPayment(ctx, pay, part)
	if err != nil || again.RefundedAmount != 500 || again.RefundedAt != first.RefundedAt {
		t.Fatalf("the same refund under its key: %+v, %v; want the first answer", again, err)
	}
	other := part
	other.Partial = &money.Amount{Minor: 600, Currency: money.USD}
	if _, err := c.RefundPayment(ctx, pay, other); !errors.Is(err, whop.ErrBadRequest) {
		t.Errorf("the key with another amount: %v, want ErrBadRequest", err)
	}
	res, err := http.Get(env.URL + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		Refunds map[string]whopsim.Refund `json:"refunds"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range st.Refunds {
		if r.PaymentID == pay {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("refunds at the sandbox = %d, want 1", n)
	}
}
