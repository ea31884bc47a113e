package ledger_test

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

func TestRevenueReportPerDayPerPackageWithRefundsAndDisputes(t *testing.T) {
	b := setup(t)
	day := func(s string) time.Time {
		d, _ := time.Parse("2006-01-02", s)
		return d
	}
	// Three sales over two days, one refunded in part and disputed twice,
	// plus purchases that must not count: unpaid, another company, another currency.
	sale := func(id, pkg string, credits, price int64, fulfilled string) {
		t.Helper()
		p := b.purchase(t, id, "user_1", credits, price)
		b.db.Pool.Exec(b.ctx, `UPDATE purchases SET package_id = $2 WHERE id = $1`, p.ID, pkg)
		if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: id, PaymentID: "pay_" + id, PaidAmount: price}, nil); err != nil {
			t.Fatal(err)
		}
		b.db.Pool.Exec(b.ctx, `UPDATE purchases SET fulfilled_at = $2 WHERE id = $1`, id, fulfilled)
	}
	sale("pur_a", "starter", 100, 499, "2026-03-01T10:00:00Z")
	sale("pur_b", "pro", 600, 2499, "2026-03-03T23:59:59Z")
	sale("pur_c", "starter", 100, 499, "2026-03-03T00:00:00Z")
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_b", PaymentID: "pay_pur_b", PaidAmount: 2499,
		RefundedAmount: 1000, RefundedCredits: 241}, nil)
	b.store.RecordDispute(b.ctx, ledger.Dispute{ID: "dp_1", PaymentID: "pay_pur_b", Amount: 1499, Currency: "usd", Status: "needs_response"}, nil)
	b.store.RecordDispute(b.ctx, ledger.Dispute{ID: "dp_2", PaymentID: "pay_pur_b", Amount: 100, Currency: "usd", Status: "won"}, nil)
	b.purchase(t, "pur_unpaid", "user_1", 100, 499)
	sale("pur_late", "starter", 100, 499, "2026-03-04T00:00:00Z") // the day after the window
	b.db.Pool.Exec(b.ctx, `INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency,
		checkout_id, plan_id, status, payment_id, paid_amount, fulfilled_at)
		VALUES ('pur_x', 'user_1', 'exp_2', 'biz_2', 'starter', 100, 499, 'usd', 'ch_x', 'plan_x', 'paid', 'pay_x', 499, '2026-03-02'),
		       ('pur_e', 'user_1', 'exp_1', 'biz_1', 'starter', 100, 499, 'eur', 'ch_e', 'plan_e', 'paid', 'pay_e', 499, '2026-03-02')`)

	rep, err := b.store.RevenueReport(b.ctx, "biz_1", "usd", day("2026-03-01").Add(5*time.Hour), day("2026-03-03").Add(20*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.CompanyID != "biz_1" || rep.Currency != "usd" || !rep.From.Equal(day("2026-03-01")) || !rep.To.Equal(day("2026-03-03")) {
		t.Fatalf("report header = %+v", rep)
	}
	wantDays := []ledger.RevenueDay{
		{Day: day("2026-03-01"), RevenueFigures: ledger.RevenueFigures{Sales: 1, Credits: 100, Gross: 499}},
		{Day: day("2026-03-02")},
		{Day: day("2026-03-03"), RevenueFigures: ledger.RevenueFigures{Sales: 2, Credits: 700, Gross: 2998,
			Refunded: 1000, RefundedCredits: 241, Disputes: 2, Disputed: 1599}},
	}
	if len(rep.Days) != len(wantDays) {
		t.Fatalf("days = %+v", rep.Days)
	}
	for i, d := range rep.Days {
		if !d.Day.Equal(wantDays[i].Day) || d.RevenueFigures != wantDays[i].RevenueFigures {
			t.Errorf("day %d = %+v, want %+v", i, d, wantDays[i])
		}
	}
	wantPkgs := []ledger.PackageRevenue{
		{PackageID: "pro", RevenueFigures: ledger.RevenueFigures{Sales: 1, Credits: 600, Gross: 2499,
			Refunded: 1000, RefundedCredits: 241, Disputes: 2, Disputed: 1599}},
		{PackageID: "starter", RevenueFigures: ledger.RevenueFigures{Sales: 2, Credits: 200, Gross: 998}},
	}
	if len(rep.Packages) != 2 || rep.Packages[0] != wantPkgs[0] || rep.Packages[1] != wantPkgs[1] {
		t.Fatalf("packages = %+v\nwant %+v", rep.Packages, wantPkgs)
	}
	wantTotals := ledger.RevenueFigures{Sales: 3, Credits: 800, Gross: 3497, Refunded: 1000, RefundedCredits: 241, Disputes: 2, Disputed: 1599}
	if rep.Totals != wantTotals || rep.Totals.Net() != 2497 {
		t.Fatalf("totals = %+v, want %+v", rep.Totals, wantTotals)
	}

	list, err := b.store.CompanyPurchases(b.ctx, "biz_1", 10)
	if err != nil || len(list) != 6 {
		t.Fatalf("company purchases = %d, %v", len(list), err)
	}
	for _, p := range list {
		if p.CompanyID != "biz_1" {
			t.Errorf("purchase %s of %s listed for biz_1", p.ID, p.CompanyID)
		}
	}
	if p, err := b.store.PurchaseByCheckout(b.ctx, "ch_pur_b"); err != nil || p.ID != "pur_b" {
		t.Fatalf("by checkout: %+v %v", p, err)
	}
}

func TestDeliveriesForACompany(t *testing.T) {
	b := setup(t)
	b.purchase(t, "pur_a", "user_1", 100, 499)
	mine := &ledger.Delivery{ID: "msg_1", Type: "refund.updated", Scheme: "standard", CompanyID: "biz_owner", ObjectID: "rf_1"}
	b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_1", PaidAmount: 499}, mine)
	dispute := &ledger.Delivery{ID: "msg_2", Type: "dispute.created", Scheme: "standard", CompanyID: "biz_owner", ObjectID: "dp_1"}
	b.store.RecordDispute(b.ctx, ledger.Dispute{ID: "dp_1", PaymentID: "pay_1", Amount: 499, Currency: "usd", Status: "needs_response"}, dispute)
	b.store.RecordDelivery(b.ctx, ledger.Delivery{ID: "msg_3", Type: "membership.activated", Scheme: "standard", CompanyID: "biz_owner"}, "ignored")
	b.store.RecordDelivery(b.ctx, ledger.Delivery{ID: "msg_4", Type: "payment.succeeded", Scheme: "legacy", CompanyID: "biz_1"}, "ignored")

	ids := func(ds []ledger.DeliveryRecord) map[string]string {
		m := map[string]string{}
		for _, d := range ds {
			m[d.ID] = d.PurchaseID
		}
		return m
	}
	creator, err := b.store.DeliveriesFor(b.ctx, "biz_1", false, 10)
	if got := ids(creator); err != nil || len(got) != 3 || got["msg_1"] != "pur_a" || got["msg_2"] != "pur_a" || got["msg_4"] != "" {
		t.Fatalf("creator sees %v (%v)", got, err)
	}
	owner, _ := b.store.DeliveriesFor(b.ctx, "biz_owner", true, 10)
	if len(owner) != 4 {
		t.Fatalf("owner sees %d deliveries, want all 4", len(owner))
	}
	if other, _ := b.store.DeliveriesFor(b.ctx, "biz_2", false, 10); len(other) != 0 {
		t.Fatalf("another company sees %+v", other)
	}
}
