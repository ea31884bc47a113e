package billing

import (
	"context"
	"fmt"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
)

// goneMembershipWhop holds a paid premium payment whose membership it no
// longer shows.
type goneMembershipWhop struct{ fuzzWhop }

func (goneMembershipWhop) GetPayment(_ context.Context, id string) (*whop.Payment, error) {
	return &whop.Payment{ID: id, Status: whop.PaymentPaid, Currency: money.USD, Total: 999, UserID: "user_fuzz1",
		CompanyID: "biz_owner", MembershipID: "mem_gone1", PlanID: "plan_premium", ProductID: "prod_premium"}, nil
}

func (goneMembershipWhop) GetMembership(_ context.Context, id string) (*whop.Membership, error) {
	return nil, fmt.Errorf("get membership %s: %w", id, whop.ErrNotFound)
}

// TestADisputeOfAPremiumPaymentWhoseMembershipIsGoneIsRecorded: a dispute
// of a premium payment re-reads the payment and then its membership, to
// take back the period's credits; Whop not finding the membership leaves
// those to the reconciler, and the dispute is recorded and answered 2xx
// all the same, not refused with a 500 on every retry.
func TestADisputeOfAPremiumPaymentWhoseMembershipIsGoneIsRecorded(t *testing.T) {
	db := pgtest.New(t)
	store := ledger.NewStore(db.Pool)
	s := New(goneMembershipWhop{}, store, Config{CompanyID: "biz_owner", Currency: money.USD,
		Premium: PremiumConfig{ProductID: "prod_premium", PlanID: "plan_premium", MonthlyCredits: 50}})
	ctx := context.Background()
	body := []byte(`{"type":"dispute.created","data":{"id":"dspt_gone1","amount":9.99,"currency":"usd","status":"needs_response",` +
		`"reason":"fraudulent","payment_id":"pay_gone1"}}`)
	res, err := s.Deliveries.Deliver(ctx, whop.Delivery{ID: "msg_gone1", Scheme: whop.SchemeStandard, Unix: 1_700_000_000}, body)
	if err != nil || res.Kind != Applied {
		t.Fatalf("delivery = %+v, %v; want applied", res, err)
	}
	var payment, status string
	var amount int64
	if err := db.Pool.QueryRow(ctx, `SELECT payment_id, status, amount FROM disputes WHERE id = 'dspt_gone1'`).Scan(&payment, &status, &amount); err != nil ||
		payment != "pay_gone1" || status != "needs_response" || amount != 999 {
		t.Fatalf("dispute row = %q %q %d, %v", payment, status, amount, err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ledger_entries) + (SELECT count(*) FROM premium_grants)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("entries and grants = %d, %v; want none", n, err)
	}
}
