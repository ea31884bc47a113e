package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// firstPeriod is the 50 credits of premium("…")'s first period.
var firstPeriod = ledger.PeriodGrant{PeriodStart: t0, PeriodEnd: t0.AddDate(0, 0, 30), ExperienceID: "exp_1", Credits: 50}

// reversal is a premium payment of total minor units of which reversed went
// back, taking back its share of a grant rounded up.
func reversal(id string, at time.Time, reversed, total int64) ledger.PremiumPayment {
	p := ledger.PremiumPayment{ID: id, At: at, Reversed: reversed}
	if reversed > 0 {
		p.TakeBack = func(granted int64) int64 { return (granted*reversed + total - 1) / total }
	}
	return p
}

func paymentDelivery(id, object string) *ledger.Delivery {
	return &ledger.Delivery{ID: id, Type: "refund.updated", Scheme: "standard", ObjectID: object}
}

func (b *bundle) premiumGrants(t *testing.T, mem string) []ledger.PremiumGrant {
	t.Helper()
	g, err := b.store.PremiumGrants(b.ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestPremiumRefundsThatGrowTakeBackTheDifference: a premium payment is
// seen paid (its period granted and tied to it), then refunded 10%, 60%
// (twice, and once more as an older reading of 30%), then in full: each
// take-back is the difference from what was taken before, rounded up, with
// its own entry, and a delivery seen before writes nothing.
func TestPremiumRefundsThatGrowTakeBackTheDifference(t *testing.T) {
	b := setup(t)
	m := premium("mem_1")
	g := firstPeriod
	res, err := b.store.RecordPremiumPayment(b.ctx, m, &g, reversal("pay_1", t0.Add(-3*time.Second), 0, 1000), paymentDelivery("msg_paid", "pay_1"))
	if err != nil || res.Granted != 50 || !res.Linked || res.TakenBack != 0 || res.Grant.PaymentID != "pay_1" {
		t.Fatalf("the payment's success: %+v, %v", res, err)
	}
	for _, step := range []struct {
		delivery       string
		reversed       int64
		takenBack      int64
		total, balance int64
		outcome        string
	}{
		{"msg_10", 100, 5, 5, 45, "; took back 5 credits of the period from 2025-03-01 (payment pay_1 reversed)"},
		{"msg_60", 600, 25, 30, 20, "; took back 25 credits of the period from 2025-03-01 (payment pay_1 reversed)"},
		{"msg_60_again", 600, 0, 30, 20, ""},
		{"msg_30_late", 300, 0, 30, 20, ""},
		{"msg_100", 1000, 20, 50, 0, "; took back 20 credits of the period from 2025-03-01 (payment pay_1 reversed)"},
	} {
		res, err := b.store.RecordPremiumPayment(b.ctx, m, &g, reversal("pay_1", t0.Add(-3*time.Second), step.reversed, 1000),
			paymentDelivery(step.delivery, "rf_1"))
		if err != nil || res.TakenBack != step.takenBack || res.Linked || res.Granted != 0 || res.Grant.RefundedCredits != step.total {
			t.Fatalf("%s: %+v, %v", step.delivery, res, err)
		}
		if got := b.balance(t, "exp_1", "user_1"); got != step.balance {
			t.Fatalf("%s: balance %d, want %d", step.delivery, got, step.balance)
		}
		outcome := b.delivery(t, step.delivery)
		if want := "membership mem_1 active (already recorded)" + step.outcome; outcome != want {
			t.Errorf("%s: outcome %q, want %q", step.delivery, outcome, want)
		}
	}
	if _, err := b.store.RecordPremiumPayment(b.ctx, m, &g, reversal("pay_1", t0, 1000, 1000), paymentDelivery("msg_100", "rf_1")); !errors.Is(err, ledger.ErrDuplicateDelivery) {
		t.Fatalf("a delivery seen before: err = %v, want ErrDuplicateDelivery", err)
	}

	grants := b.premiumGrants(t, "mem_1")
	if len(grants) != 1 {
		t.Fatalf("grants = %+v", grants)
	}
	gr := grants[0]
	if gr.PaymentID != "pay_1" || gr.RefundedAmount != 1000 || gr.RefundedCredits != 50 || gr.Credits != 50 ||
		gr.DeliveryID != "msg_paid" || !gr.PeriodStart.Equal(t0) || !gr.PeriodEnd.Equal(t0.AddDate(0, 0, 30)) ||
		gr.UserID != "user_1" || gr.ExperienceID != "exp_1" || gr.MembershipID != "mem_1" {
		t.Fatalf("grant = %+v", gr)
	}
	entries, err := b.store.Entries(b.ctx, "exp_1", "user_1")
	if err != nil || len(entries) != 4 {
		t.Fatalf("entries = %+v, %v", entries, err)
	}
	want := []struct {
		amount, after int64
		key           string
	}{{-5, 45, ":5"}, {-25, 20, ":30"}, {-20, 0, ":50"}}
	for i, w := range want {
		e := entries[i+1]
		if e.Kind != ledger.KindRefund || e.Amount != w.amount || e.BalanceAfter != w.after || e.Reference != "pay_1" ||
			e.IdempotencyKey != fmt.Sprintf("premium_refund:%d%s", gr.ID, w.key) || e.WalletID != entries[0].WalletID {
			t.Errorf("entry %d = %+v, want %+v", i+1, e, w)
		}
	}
	if entries[0].ID != gr.LedgerEntryID || entries[0].Kind != ledger.KindGrant || entries[0].Amount != 50 {
		t.Errorf("grant entry = %+v", entries[0])
	}
}

// TestAPremiumPaymentFindsItsPeriodByTime: two periods granted with no
// payment tied to them (older rows, or payment webhooks lost). A renewal
// charged seconds before its period starts is that period's, a first
// payment made seconds before the membership's period is the first's; a
// payment whose time is in no free period, or unknown, takes nothing.
func TestAPremiumPaymentFindsItsPeriodByTime(t *testing.T) {
	b := setup(t)
	p1 := premium("mem_1")
	if _, err := b.store.RecordMembership(b.ctx, p1, true, &firstPeriod, nil); err != nil {
		t.Fatal(err)
	}
	p2start := t0.AddDate(0, 0, 30)
	p2 := p1
	p2.PeriodStart, p2.PeriodEnd, p2.LastEventAt = p2start, p2start.AddDate(0, 0, 30), p2start
	second := ledger.PeriodGrant{PeriodStart: p2.PeriodStart, PeriodEnd: p2.PeriodEnd, ExperienceID: "exp_1", Credits: 50}
	if _, err := b.store.RecordMembership(b.ctx, p2, true, &second, nil); err != nil {
		t.Fatal(err)
	}

	renewal, err := b.store.RecordPremiumPayment(b.ctx, p2, nil, reversal("pay_2", p2start.Add(-3*time.Second), 999, 999), nil)
	if err != nil || !renewal.Linked || renewal.TakenBack != 50 || !renewal.Grant.PeriodStart.Equal(p2start) {
		t.Fatalf("the renewal's refund: %+v, %v", renewal, err)
	}
	first, err := b.store.RecordPremiumPayment(b.ctx, p2, nil, reversal("pay_1", t0.Add(-5*time.Second), 299, 999), nil)
	if err != nil || !first.Linked || first.TakenBack != 15 || !first.Grant.PeriodStart.Equal(t0) {
		t.Fatalf("the first payment's partial refund: %+v, %v", first, err)
	}
	for name, p := range map[string]ledger.PremiumPayment{
		"in a period another payment paid for": reversal("pay_3", t0.Add(10*24*time.Hour), 999, 999),
		"after every period":                   reversal("pay_4", t0.AddDate(0, 0, 61), 999, 999),
		"long before the first":                reversal("pay_5", t0.Add(-time.Hour), 999, 999),
		"at no known time":                     reversal("pay_6", time.Time{}, 999, 999),
	} {
		res, err := b.store.RecordPremiumPayment(b.ctx, p2, nil, p, paymentDelivery("msg_"+p.ID, p.ID))
		if err != nil || res.Grant.ID != 0 || res.TakenBack != 0 || res.Linked {
			t.Errorf("%s: %+v, %v; want no grant", name, res, err)
		}
		outcome := b.delivery(t, "msg_"+p.ID)
		if want := "membership mem_1 active (already recorded); payment " + p.ID +
			" was reversed but paid for no period granted: nothing taken back"; outcome != want {
			t.Errorf("%s: outcome %q, want %q", name, outcome, want)
		}
	}
	// Another membership's payment tied to this one's period stays out of it.
	other := premium("mem_2")
	other.UserID = "user_1"
	if res, err := b.store.RecordPremiumPayment(b.ctx, other, nil, reversal("pay_1", t0, 999, 999), nil); err != nil || res.Grant.ID != 0 || res.TakenBack != 0 {
		t.Errorf("pay_1 seen on another membership: %+v, %v", res, err)
	}

	grants := b.premiumGrants(t, "mem_1")
	if len(grants) != 2 || grants[0].PaymentID != "pay_1" || grants[0].RefundedAmount != 299 || grants[0].RefundedCredits != 15 ||
		grants[1].PaymentID != "pay_2" || grants[1].RefundedAmount != 999 || grants[1].RefundedCredits != 50 {
		t.Fatalf("grants = %+v", grants)
	}
	if got := b.balance(t, "exp_1", "user_1"); got != 35 {
		t.Fatalf("balance = %d, want 100 - 50 - 15", got)
	}
}

// TestConcurrentSightingsOfAPremiumRefundTakeBackOnce: the refund's two
// webhooks, a redelivery and the reconciler see one refund at once.
func TestConcurrentSightingsOfAPremiumRefundTakeBackOnce(t *testing.T) {
	b := setup(t)
	m := premium("mem_1")
	if _, err := b.store.RecordPremiumPayment(b.ctx, m, &firstPeriod, reversal("pay_1", t0, 0, 999), nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	taken := make([]int64, 8)
	errs := make([]error, 8)
	for i := range taken {
		wg.Go(func() {
			var d *ledger.Delivery
			if i%2 == 0 {
				d = paymentDelivery(fmt.Sprint("msg_", i/2), "rf_1")
			}
			res, err := b.store.RecordPremiumPayment(b.ctx, m, &firstPeriod, reversal("pay_1", t0, 999, 999), d)
			taken[i], errs[i] = res.TakenBack, err
		})
	}
	wg.Wait()
	var sum int64
	for i := range taken {
		if errs[i] != nil {
			t.Fatalf("sighting %d: %v", i, errs[i])
		}
		sum += taken[i]
	}
	if sum != 50 || b.balance(t, "exp_1", "user_1") != 0 ||
		b.count(t, `SELECT count(*) FROM ledger_entries WHERE kind = 'refund'`) != 1 {
		t.Fatalf("taken back %v (sum %d), balance %d; want 50 once", taken, sum, b.balance(t, "exp_1", "user_1"))
	}
}

// TestThePremiumGrantGuardRefusesRewrites: a grant changes only by being
// tied to a payment once and taking back more, each with its entry.
func TestThePremiumGrantGuardRefusesRewrites(t *testing.T) {
	b := setup(t)
	m := premium("mem_1")
	if _, err := b.store.RecordPremiumPayment(b.ctx, m, &firstPeriod, reversal("pay_1", t0, 500, 1000), nil); err != nil {
		t.Fatal(err)
	}
	second := premium("mem_2")
	if _, err := b.store.RecordMembership(b.ctx, second, true, &firstPeriod, nil); err != nil {
		t.Fatal(err)
	}
	for name, sql := range map[string]string{
		"another payment":            `UPDATE premium_grants SET payment_id = 'pay_9' WHERE membership_id = 'mem_1'`,
		"less taken back":            `UPDATE premium_grants SET refunded_credits = 10 WHERE membership_id = 'mem_1'`,
		"less refunded":              `UPDATE premium_grants SET refunded_amount = 100 WHERE membership_id = 'mem_1'`,
		"more taken without entry":   `UPDATE premium_grants SET refunded_credits = 40 WHERE membership_id = 'mem_1'`,
		"more than granted":          `UPDATE premium_grants SET refunded_credits = 60 WHERE membership_id = 'mem_1'`,
		"other credits":              `UPDATE premium_grants SET credits = 40 WHERE membership_id = 'mem_1'`,
		"another period":             `UPDATE premium_grants SET period_start = period_start + interval '1 day' WHERE membership_id = 'mem_1'`,
		"taken back with no payment": `UPDATE premium_grants SET refunded_amount = 10 WHERE membership_id = 'mem_2'`,
		"one payment, two periods":   `UPDATE premium_grants SET payment_id = 'pay_1' WHERE membership_id = 'mem_2'`,
	} {
		if _, err := b.db.Pool.Exec(b.ctx, sql); err == nil {
			t.Errorf("%s: the database accepted it", name)
		} else if !strings.Contains(err.Error(), "SQLSTATE") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := b.db.Pool.Exec(b.ctx, `UPDATE premium_grants SET payment_id = 'pay_2' WHERE membership_id = 'mem_2'`); err != nil {
		t.Fatalf("tying an untied grant to its payment: %v", err)
	}
	g := b.premiumGrants(t, "mem_1")
	if len(g) != 1 || g[0].PaymentID != "pay_1" || g[0].RefundedAmount != 500 || g[0].RefundedCredits != 25 || g[0].Credits != 50 {
		t.Fatalf("grant after the refused rewrites = %+v", g)
	}
}

func (b *bundle) balance(t *testing.T, experienceID, userID string) int64 {
	t.Helper()
	n, err := b.store.Balance(b.ctx, experienceID, userID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// delivery returns the outcome recorded for a delivery.
func (b *bundle) delivery(t *testing.T, id string) string {
	t.Helper()
	var outcome string
	err := b.db.Pool.QueryRow(b.ctx, `SELECT outcome FROM webhook_deliveries WHERE id = $1`, id).Scan(&outcome)
	if err != nil {
		t.Fatalf("delivery %s: %v", id, err)
	}
	return outcome
}
