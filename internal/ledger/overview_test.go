package ledger_test

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// TestAppFiguresAgreeAtTheWindowEdges: the owner's dashboard adds up the
// same sales three ways (the app-wide report, the per-company table, the
// shares paid) and compares the period's purchases with Whop. All four
// must count exactly the sales fulfilled from the first UTC day of the
// window on, whatever time zone the database session runs in: a managed
// Postgres set to local time must not move the window's edges.
func TestAppFiguresAgreeAtTheWindowEdges(t *testing.T) {
	b := setup(t)
	cfg, err := pgxpool.ParseConfig(b.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "Pacific/Auckland" // UTC+13 in March
	pool, err := pgxpool.NewWithConfig(b.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{SkipUnknownJobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	store := ledger.NewStore(pool, ledger.WithJobs(riverJobs{jobs}))

	// A sale in company's experience, its 10 % share paid, fulfilled (and
	// its share created, as in one transaction) at the given instant.
	sale := func(id, company string, price int64, at string) {
		t.Helper()
		_, _, err := store.CreatePurchase(b.ctx, ledger.NewPurchase{ID: id, UserID: "user_1", ExperienceID: "exp_" + company,
			CompanyID: company, PackageID: "starter", Credits: 100, Price: price, Currency: "usd",
			CheckoutID: "ch_" + id, PlanID: "plan_" + id})
		if err != nil {
			t.Fatal(err)
		}
		share := &ledger.ShareTerms{FromCompanyID: "biz_owner", BasisPoints: 1000, Amount: price / 10}
		if _, err := store.Settle(b.ctx, ledger.Settlement{PurchaseID: id, PaymentID: "pay_" + id, PaidAmount: price, Share: share}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := b.db.Pool.Exec(b.ctx, `UPDATE purchases SET fulfilled_at = $2 WHERE id = $1`, id, at); err != nil {
			t.Fatal(err)
		}
		// A share's row guards its history; this test's own database
		// moves its creation to the sale's instant, as fulfilment has it.
		if _, err := b.db.Pool.Exec(b.ctx, `ALTER TABLE revenue_shares DISABLE TRIGGER USER;
			UPDATE revenue_shares SET created_at = '`+at+`' WHERE purchase_id = '`+id+`';
			ALTER TABLE revenue_shares ENABLE TRIGGER USER`); err != nil {
			t.Fatal(err)
		}
		b.payShare(t, "pay_"+id, ledger.TransferOutcome{Status: ledger.TransferPaid, TransferID: "ctt_" + id})
	}
	sale("pur_before", "biz_1", 999, "2026-02-28T20:00:00Z") // the day before in UTC; already March 1 in Auckland
	sale("pur_first", "biz_1", 2499, "2026-03-01T00:00:00Z") // the window's first instant
	sale("pur_last", "biz_2", 499, "2026-03-03T23:59:59Z")   // its last second; March 4 in Auckland

	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	rep, err := store.AppRevenueReport(b.ctx, "usd", day("2026-03-01").Add(5*time.Hour), day("2026-03-03").Add(20*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := (ledger.RevenueFigures{Sales: 2, Credits: 200, Gross: 2998}); rep.Totals != want {
		t.Errorf("app report totals = %+v, want %+v", rep.Totals, want)
	}
	if len(rep.Days) != 3 || rep.Days[0].Gross != 2499 || rep.Days[1].Sales != 0 || rep.Days[2].Gross != 499 {
		t.Errorf("app report days = %+v", rep.Days)
	}

	companies, err := store.CompanyRevenues(b.ctx, "usd", rep.From)
	if err != nil {
		t.Fatal(err)
	}
	want := []ledger.CompanyRevenue{
		{CompanyID: "biz_1", Experiences: 1, Sales: 1, Gross: 2499, SharePaid: 249, LastSale: day("2026-03-01")},
		{CompanyID: "biz_2", Experiences: 1, Sales: 1, Gross: 499, SharePaid: 49, LastSale: day("2026-03-03").Add(24*time.Hour - time.Second)},
	}
	if len(companies) != len(want) {
		t.Fatalf("companies = %+v, want %+v", companies, want)
	}
	var gross, sales int64
	for i, c := range companies {
		if !c.LastSale.Equal(want[i].LastSale) {
			t.Errorf("%s last sale = %s, want %s", c.CompanyID, c.LastSale, want[i].LastSale)
		}
		c.LastSale = want[i].LastSale
		if c != want[i] {
			t.Errorf("company %d = %+v, want %+v", i, c, want[i])
		}
		gross, sales = gross+c.Gross, sales+c.Sales
	}
	if gross != rep.Totals.Gross || sales != rep.Totals.Sales {
		t.Errorf("the companies add up to %d sales, %d taken; the report says %d, %d", sales, gross, rep.Totals.Sales, rep.Totals.Gross)
	}

	shares, err := store.ShareTotalsSince(b.ctx, "biz_owner", "usd", rep.From)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ledger.ShareSummary{Count: 2, PaidCount: 2, Paid: 298}); shares != want {
		t.Errorf("shares since the window began = %+v, want %+v", shares, want)
	}

	ours, err := store.FulfilledSince(b.ctx, rep.From)
	if err != nil {
		t.Fatal(err)
	}
	if len(ours) != 2 || ours["pay_pur_first"].ID != "pur_first" || ours["pay_pur_last"].ID != "pur_last" {
		t.Errorf("fulfilled since the window began = %+v", ours)
	}
}
