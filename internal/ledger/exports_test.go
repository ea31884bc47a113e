package ledger_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/utcday"
)

// TestHistoryPagesAreTheWalletsLedgerWithWhatEachEntryWas: every entry of
// a member's wallet, oldest first, with the money that moved with it, what
// it was, and the running balance; pages join up exactly.
func TestHistoryPagesAreTheWalletsLedgerWithWhatEachEntryWas(t *testing.T) {
	b := setup(t)
	b.buy(t, "pur_a", "user_1", 100)
	b.grant(t, "grt_1", "user_1", 40, time.Now().Add(soon))
	sp, err := b.spend(t, "user_1", 25, "k1")
	if err != nil {
		t.Fatal(err)
	}
	// A refund of $1.50 of $4.99 takes back ceil(100 × 150 / 499) = 31 credits.
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_pur_a", PaidAmount: 499,
		RefundedAmount: 150, RefundedCredits: 31}, nil); err != nil {
		t.Fatal(err)
	}
	b.waitPast(t, b.grantState(t, "grt_1").ExpiresAt)
	if _, err := b.store.ExpireGrant(b.ctx, "grt_1"); err != nil {
		t.Fatal(err)
	}
	entries, _ := b.store.Entries(b.ctx, "exp_1", "user_1")
	if len(entries) != 5 {
		t.Fatalf("%d entries", len(entries))
	}
	want := []ledger.HistoryRow{
		{Kind: ledger.KindPurchase, Credits: 100, BalanceAfter: 100, Money: 499, Currency: "usd", Reference: "pur_a", Detail: "starter"},
		{Kind: ledger.KindGrant, Credits: 40, BalanceAfter: 140, Reference: "grt_1", Detail: "Welcome gift grt_1"},
		{Kind: ledger.KindSpend, Credits: -25, BalanceAfter: 115, Reference: "spend_" + strconv.FormatInt(sp.ID, 10), Detail: "Item"},
		{Kind: ledger.KindRefund, Credits: -31, BalanceAfter: 84, Money: -150, Currency: "usd", Reference: "pur_a", Detail: "starter"},
		{Kind: ledger.KindExpiry, Credits: -15, BalanceAfter: 69, Reference: "grt_1", Detail: "Welcome gift grt_1"},
	}
	for i := range want {
		want[i].EntryID, want[i].At, want[i].Cursor = entries[i].ID, entries[i].CreatedAt, ledger.HistoryCursor{Entry: entries[i].ID}
	}
	var got []ledger.HistoryRow
	var after ledger.HistoryCursor
	for pages := 0; ; pages++ {
		page, err := b.store.HistoryPage(b.ctx, "exp_1", "user_1", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if pages != 3 {
				t.Errorf("%d pages of 2, want 3", pages)
			}
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Cursor
	}
	if len(got) != len(want) {
		t.Fatalf("history = %+v", got)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) {
			t.Errorf("row %d at %s, want %s", i, got[i].At, want[i].At)
		}
		got[i].At = want[i].At
		if got[i] != want[i] {
			t.Errorf("row %d = %+v\nwant     %+v", i, got[i], want[i])
		}
	}
	if other, _ := b.store.HistoryPage(b.ctx, "exp_1", "user_2", ledger.HistoryCursor{}, 10); len(other) != 0 {
		t.Errorf("another member's history = %+v", other)
	}
}

// TestHistoryHasRefundsOfMoneyAloneWhereTheyHappened: money refunded
// with no credit taken back has no ledger entry but is a row of the
// member's history, after the entry before it and with the balance it
// left, so the money column sums to what was paid less what was refunded;
// pages of one join up across such rows.
func TestHistoryHasRefundsOfMoneyAloneWhereTheyHappened(t *testing.T) {
	b := setup(t)
	b.buy(t, "pur_a", "user_1", 100)
	refund := func(amount, credits int64) { // so far
		t.Helper()
		if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_pur_a", PaidAmount: 499,
			RefundedAmount: amount, RefundedCredits: credits}, nil); err != nil {
			t.Fatal(err)
		}
	}
	refund(150, 31) // ceil(100 × 150 / 499) = 31
	refund(151, 31) // a cent more: still 31 credits, money alone
	sp, err := b.spend(t, "user_1", 10, "k1")
	if err != nil {
		t.Fatal(err)
	}
	refund(152, 31)
	refund(499, 100)
	entries, _ := b.store.Entries(b.ctx, "exp_1", "user_1")
	var alone []int64
	if err := b.db.Pool.QueryRow(b.ctx, `SELECT array_agg(id ORDER BY id) FROM purchase_refunds WHERE credits = 0`).Scan(&alone); err != nil || len(entries) != 4 || len(alone) != 2 {
		t.Fatalf("%d entries, refunds of money alone %v (%v)", len(entries), alone, err)
	}
	purchase := ledger.HistoryRow{Kind: ledger.KindPurchase, Credits: 100, BalanceAfter: 100, Money: 499, Currency: "usd", Reference: "pur_a", Detail: "starter"}
	refundRow := func(credits, balance, money int64) ledger.HistoryRow {
		return ledger.HistoryRow{Kind: ledger.KindRefund, Credits: credits, BalanceAfter: balance, Money: money, Currency: "usd", Reference: "pur_a", Detail: "starter"}
	}
	want := []ledger.HistoryRow{
		purchase,
		refundRow(-31, 69, -150),
		refundRow(0, 69, -1),
		{Kind: ledger.KindSpend, Credits: -10, BalanceAfter: 59, Reference: "spend_" + strconv.FormatInt(sp.ID, 10), Detail: "Item"},
		refundRow(0, 59, -1),
		refundRow(-69, -10, -347),
	}
	entryOf := []int{0, 1, 1, 2, 2, 3} // the entry each row is, or follows
	for i := range want {
		e := entries[entryOf[i]]
		want[i].Cursor.Entry = e.ID
		if want[i].Credits != 0 {
			want[i].EntryID, want[i].At = e.ID, e.CreatedAt
		}
	}
	want[2].Cursor.Refund, want[4].Cursor.Refund = alone[0], alone[1]
	var got []ledger.HistoryRow
	var after ledger.HistoryCursor
	for len(got) <= len(want) {
		page, err := b.store.HistoryPage(b.ctx, "exp_1", "user_1", after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Cursor
	}
	if len(got) != len(want) {
		t.Fatalf("history = %+v", got)
	}
	var money, credits int64
	for i := range want {
		money, credits = money+got[i].Money, credits+got[i].Credits
		if want[i].At.IsZero() { // a refund of money alone is dated by the refund, between its neighbours
			if got[i].At.Before(got[i-1].At) || got[i].At.After(got[i+1].At) {
				t.Errorf("row %d at %s, not between %s and %s", i, got[i].At, got[i-1].At, got[i+1].At)
			}
		} else if !got[i].At.Equal(want[i].At) {
			t.Errorf("row %d at %s, want %s", i, got[i].At, want[i].At)
		}
		got[i].At = want[i].At
		if got[i] != want[i] {
			t.Errorf("row %d = %+v\nwant     %+v", i, got[i], want[i])
		}
	}
	if money != 0 || credits != -10 {
		t.Errorf("the history's money sums to %d and its credits to %d, want 0 and -10", money, credits)
	}
}

// TestARefundOfMoneyAloneKeepsItsPlaceInTheHistory: a refund of money
// alone is recorded while another writer of the wallet, whose transaction
// began first, has not committed its entry. The first page of the history
// ends at that refund; the writer then commits. The next page does not
// hold the refund again, and the refund's balance is the one the first
// page showed: its place was recorded with it, not worked out from times.
func TestARefundOfMoneyAloneKeepsItsPlaceInTheHistory(t *testing.T) {
	b := setup(t)
	b.buy(t, "pur_a", "user_1", 100)
	refund := func(amount, credits int64) {
		t.Helper()
		if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_pur_a", PaidAmount: 499,
			RefundedAmount: amount, RefundedCredits: credits}, nil); err != nil {
			t.Fatal(err)
		}
	}
	refund(150, 31)
	late, err := b.db.Pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(b.ctx)
	if _, err := late.Exec(b.ctx, `SELECT now()`); err != nil { // its time is taken now
		t.Fatal(err)
	}
	refund(151, 31) // money alone
	first, err := b.store.HistoryPage(b.ctx, "exp_1", "user_1", ledger.HistoryCursor{}, 3)
	if err != nil || len(first) != 3 || first[2].EntryID != 0 || first[2].Money != -1 || first[2].BalanceAfter != 69 {
		t.Fatalf("first page = %+v, %v; want it to end at the refund of a cent, balance 69", first, err)
	}
	var wallet, balance int64
	if err := late.QueryRow(b.ctx, `UPDATE wallets SET balance = balance + 5 WHERE experience_id = 'exp_1' AND user_id = 'user_1'
		RETURNING id, balance`).Scan(&wallet, &balance); err != nil {
		t.Fatal(err)
	}
	if _, err := late.Exec(b.ctx, `INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
		VALUES ($1, 'adjustment', 5, $2, 'adj', 'adj:1')`, wallet, balance); err != nil {
		t.Fatal(err)
	}
	if err := late.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
	next, err := b.store.HistoryPage(b.ctx, "exp_1", "user_1", first[2].Cursor, 3)
	if err != nil || len(next) != 1 || next[0].EntryID == 0 || next[0].Credits != 5 || next[0].BalanceAfter != 74 {
		t.Fatalf("next page = %+v, %v; want the late entry alone", next, err)
	}
	again, err := b.store.HistoryPage(b.ctx, "exp_1", "user_1", ledger.HistoryCursor{}, 10)
	if err != nil || len(again) != 4 || again[2] != first[2] {
		t.Fatalf("the whole history read again = %+v, %v; want the refund where the first page had it", again, err)
	}
}

// TestExportListsACompanysMoneyAndGrantsForItsPeriod: a company's export
// holds its sales, refunds, grants, expiries and payouts in the window,
// nobody else's, in time order however it is paged; the owner's export
// (every company) holds both companies' sales and only the owner's payouts.
func TestExportListsACompanysMoneyAndGrantsForItsPeriod(t *testing.T) {
	b := setup(t)
	b.buy(t, "pur_a", "user_1", 100)
	b.grant(t, "grt_1", "user_1", 40, time.Now().Add(soon))
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_pur_a", PaidAmount: 499,
		RefundedAmount: 100, RefundedCredits: 21}, nil); err != nil {
		t.Fatal(err)
	}
	// A second refund of one cent more takes no credit more: money alone.
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_pur_a", PaidAmount: 499,
		RefundedAmount: 101, RefundedCredits: 21}, nil); err != nil {
		t.Fatal(err)
	}
	// Another company's sale, grant and payout.
	if _, _, err := b.store.CreatePurchase(b.ctx, ledger.NewPurchase{ID: "pur_b", UserID: "user_2", ExperienceID: "exp_2",
		CompanyID: "biz_2", PackageID: "pro", Credits: 600, Price: 2499, Currency: "usd", CheckoutID: "ch_b", PlanID: "plan_b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.Settle(b.ctx, ledger.Settlement{PurchaseID: "pur_b", PaymentID: "pay_b", PaidAmount: 2499}, nil); err != nil {
		t.Fatal(err)
	}
	other := newGrant("grt_2", "user_2", 5, time.Time{})
	other.ExperienceID, other.CompanyID = "exp_2", "biz_2"
	if _, _, err := b.store.GrantCredits(b.ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.store.CreatePayout(b.ctx, newPayout("po_1", "pk1")); err != nil {
		t.Fatal(err)
	}
	po2 := newPayout("po_2", "pk2")
	po2.CompanyID = "biz_2"
	if _, _, err := b.store.CreatePayout(b.ctx, po2); err != nil {
		t.Fatal(err)
	}
	b.waitPast(t, b.grantState(t, "grt_1").ExpiresAt)
	if _, err := b.store.ExpireGrant(b.ctx, "grt_1"); err != nil {
		t.Fatal(err)
	}

	today := time.Now()
	period := ledger.ExportPeriod{CompanyID: "biz_1", PayoutCompanyID: "biz_1", From: today.AddDate(0, 0, -1), To: today}
	rows := b.export(t, period, 100)
	entries, _ := b.store.Entries(b.ctx, "exp_1", "user_1")
	type line struct {
		typ                  string
		entry                int64
		ref, pay             string
		credits, amount, fee int64
		cur, status, detail  string
	}
	want := []line{
		{"sale", entries[0].ID, "pur_a", "pay_pur_a", 100, 499, 0, "usd", "", "starter"},
		{"grant", entries[1].ID, "grt_1", "", 40, 0, 0, "", "", "Welcome gift grt_1"},
		{"refund", entries[2].ID, "pur_a", "pay_pur_a", -21, -100, 0, "usd", "", "starter"},
		{"refund", 0, "pur_a", "pay_pur_a", 0, -1, 0, "usd", "", "starter"},
		{"payout", 0, "po_1", "", 0, -1250, 25, "usd", "pending", "thanks"},
		{"grant_expiry", entries[3].ID, "grt_1", "", -40, 0, 0, "", "", "Welcome gift grt_1"},
	}
	if len(rows) != len(want) {
		t.Fatalf("export = %+v", rows)
	}
	for i, w := range want {
		r := rows[i]
		got := line{r.Type, r.EntryID, r.Reference, r.PaymentID, r.Credits, r.Amount, r.Fee, r.Currency, r.Status, r.Detail}
		if got != w {
			t.Errorf("row %d = %+v\nwant     %+v", i, got, w)
		}
		wantUser, wantExp := "user_1", "exp_1"
		if r.Type == "payout" {
			wantUser, wantExp = "user_alice", ""
		}
		if r.UserID != wantUser || r.ExperienceID != wantExp || r.At.IsZero() || (i > 0 && r.At.Before(rows[i-1].At)) {
			t.Errorf("row %d: user %s experience %q at %s", i, r.UserID, r.ExperienceID, r.At)
		}
	}
	// Paged one row at a time, the same rows in the same order.
	if paged := b.export(t, period, 1); !slices.EqualFunc(paged, rows, func(a, b ledger.ExportRow) bool {
		return a.Cursor == b.Cursor && a.At.Equal(b.At)
	}) {
		t.Errorf("paged export = %+v\nwant %+v", paged, rows)
	}
	// A window that ended yesterday holds none of it.
	if old := b.export(t, ledger.ExportPeriod{CompanyID: "biz_1", PayoutCompanyID: "biz_1", From: today.AddDate(0, 0, -9),
		To: today.AddDate(0, 0, -1)}, 100); len(old) != 0 {
		t.Errorf("yesterday's export = %+v", old)
	}
	// The whole app: both companies' sales and grants, the owner's payouts.
	all := b.export(t, ledger.ExportPeriod{PayoutCompanyID: "biz_2", From: today, To: today}, 100)
	var types []string
	for _, r := range all {
		types = append(types, r.Type+":"+r.Reference)
	}
	slices.Sort(types)
	if want := []string{"grant:grt_1", "grant:grt_2", "grant_expiry:grt_1", "payout:po_2", "refund:pur_a", "refund:pur_a",
		"sale:pur_a", "sale:pur_b"}; !slices.Equal(types, want) {
		t.Errorf("the app's export = %v, want %v", types, want)
	}
}

// export reads a whole export, limit rows a page.
func (b *bundle) export(t *testing.T, p ledger.ExportPeriod, limit int) []ledger.ExportRow {
	t.Helper()
	var out []ledger.ExportRow
	var after ledger.ExportCursor
	for {
		page, err := b.store.ExportPage(b.ctx, p, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Cursor
	}
}

// TestGrantReportKeepsGrantsApartFromSales: the figures count the
// window's grants and expiries, and what unexpired grants still hold.
func TestGrantReportKeepsGrantsApartFromSales(t *testing.T) {
	utcday.ClearOfMidnight(t, 30*time.Second) // the grants and the report over today in one day
	b := setup(t)
	b.buy(t, "pur_a", "user_1", 100)
	b.grant(t, "grt_1", "user_1", 40, time.Now().Add(soon))
	b.grant(t, "grt_2", "user_1", 25, time.Time{})
	other := newGrant("grt_3", "user_2", 7, time.Time{})
	other.ExperienceID, other.CompanyID = "exp_2", "biz_2"
	if _, _, err := b.store.GrantCredits(b.ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := b.spend(t, "user_1", 50, "k1"); err != nil { // 40 of grt_1, 10 of grt_2
		t.Fatal(err)
	}
	b.grant(t, "grt_4", "user_1", 10, time.Now().Add(soon))
	b.waitPast(t, b.grantState(t, "grt_4").ExpiresAt)
	for _, id := range []string{"grt_1", "grt_4"} {
		if _, err := b.store.ExpireGrant(b.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	today := time.Now()
	f, err := b.store.GrantReport(b.ctx, "biz_1", today.AddDate(0, 0, -29), today)
	want := ledger.GrantFigures{Grants: 3, Granted: 75, Spent: 50, Expiries: 1, Expired: 10, Outstanding: 15}
	if err != nil || f != want {
		t.Errorf("creator's figures = %+v, %v; want %+v", f, err, want)
	}
	f, err = b.store.GrantReport(b.ctx, "", today, today)
	want = ledger.GrantFigures{Grants: 4, Granted: 82, Spent: 50, Expiries: 1, Expired: 10, Outstanding: 22}
	if err != nil || f != want {
		t.Errorf("the app's figures = %+v, %v; want %+v", f, err, want)
	}
	if f, _ := b.store.GrantReport(b.ctx, "biz_1", today.AddDate(0, 0, -9), today.AddDate(0, 0, -1)); f != (ledger.GrantFigures{Outstanding: 15}) {
		t.Errorf("an earlier window's figures = %+v", f)
	}
	list, err := b.store.CompanyGrants(b.ctx, "biz_1", 10)
	if err != nil || len(list) != 3 || list[0].ID != "grt_4" || list[2].ID != "grt_1" {
		t.Errorf("company grants = %+v, %v", list, err)
	}
	exps, err := b.store.CompanyExperiences(b.ctx, "", 10)
	if err != nil || !slices.Equal(exps, []string{"exp_1", "exp_2"}) {
		t.Errorf("experiences = %v, %v", exps, err)
	}
}
