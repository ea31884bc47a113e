package ledger_test

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// TestActivityPagesTheLedgerNewestFirst: a member's history is their
// wallet's ledger, newest first, each entry with its running balance and
// what it was for, in pages keyed on the entry id; the balance above every
// page is the newest running balance.
func TestActivityPagesTheLedgerNewestFirst(t *testing.T) {
	b := setup(t)
	settle := func(st ledger.Settlement) {
		t.Helper()
		if _, err := b.store.Settle(b.ctx, st, nil); err != nil {
			t.Fatal(err)
		}
	}
	spend := func(item, title string, cost int64, key string) {
		t.Helper()
		if _, err := b.store.Spend(b.ctx, ledger.SpendRequest{ExperienceID: "exp_1", UserID: "user_1", ItemID: item,
			Title: title, Cost: cost, IdempotencyKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	b.purchase(t, "pur_a", "user_1", 100, 499)
	settle(ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_a", PaidAmount: 499}) // +100 → 100
	spend("sticker", "Sticker pack", 5, "k1")                                           // −5 → 95
	spend("boost", "Profile boost", 20, "k2")                                           // −20 → 75
	m := premium("mem_1")
	if _, err := b.store.RecordMembership(b.ctx, m, false, &ledger.PeriodGrant{PeriodStart: m.PeriodStart,
		PeriodEnd: m.PeriodEnd, ExperienceID: "exp_1", Credits: 50}, delivery("msg_1")); err != nil { // +50 → 125
		t.Fatal(err)
	}
	b.purchase(t, "pur_b", "user_1", 600, 2499)
	settle(ledger.Settlement{PurchaseID: "pur_b", PaymentID: "pay_b", PaidAmount: 2499})                                          // +600 → 725
	settle(ledger.Settlement{PurchaseID: "pur_a", PaymentID: "pay_a", PaidAmount: 499, RefundedAmount: 250, RefundedCredits: 51}) // −51 → 674
	if _, err := b.store.RecordDispute(b.ctx, ledger.Dispute{ID: "dp_1", PaymentID: "pay_b", Amount: 2499, Currency: "usd", Status: "lost"}, nil); err != nil {
		t.Fatal(err)
	}
	settle(ledger.Settlement{PurchaseID: "pur_b", PaymentID: "pay_b", PaidAmount: 2499, RefundedAmount: 2499, RefundedCredits: 600}) // −600 → 74
	// Someone else's wallet, and another experience of this member's, stay out.
	b.purchase(t, "pur_c", "user_2", 100, 499)
	settle(ledger.Settlement{PurchaseID: "pur_c", PaymentID: "pay_c", PaidAmount: 499})

	type row struct {
		kind                 ledger.EntryKind
		amount, after        int64
		pkg, item, itemName  string
		disputeLost, granted bool
	}
	want := []row{
		{kind: ledger.KindRefund, amount: -600, after: 74, pkg: "starter", disputeLost: true},
		{kind: ledger.KindRefund, amount: -51, after: 674, pkg: "starter"},
		{kind: ledger.KindPurchase, amount: 600, after: 725, pkg: "starter"},
		{kind: ledger.KindGrant, amount: 50, after: 125, granted: true},
		{kind: ledger.KindSpend, amount: -20, after: 75, item: "boost", itemName: "Profile boost"},
		{kind: ledger.KindSpend, amount: -5, after: 95, item: "sticker", itemName: "Sticker pack"},
		{kind: ledger.KindPurchase, amount: 100, after: 100, pkg: "starter"},
	}
	// readAll reads every page of limit entries, checking each page's
	// balance and its link to the next.
	readAll := func(limit int) (got []ledger.ActivityEntry, pages int) {
		t.Helper()
		var before int64
		for {
			page, err := b.store.Activity(b.ctx, "exp_1", "user_1", before, limit)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if page.Balance != 74 {
				t.Fatalf("limit %d, page %d: balance %d, want the newest running balance 74", limit, pages, page.Balance)
			}
			if len(page.Entries) == 0 || len(page.Entries) > limit {
				t.Fatalf("limit %d, page %d has %d entries", limit, pages, len(page.Entries))
			}
			got = append(got, page.Entries...)
			if page.Before == 0 {
				return got, pages
			}
			if page.Before != page.Entries[len(page.Entries)-1].ID {
				t.Fatalf("limit %d, page %d: before = %d, want its last entry %d", limit, pages, page.Before, page.Entries[len(page.Entries)-1].ID)
			}
			before = page.Before
		}
	}
	got, pages := readAll(3)
	start := time.Now().Add(-time.Minute)
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d pages, %d entries; want 3 pages of 7", pages, len(got))
	}
	for i, w := range want {
		e := got[i]
		if e.Kind != w.kind || e.Amount != w.amount || e.BalanceAfter != w.after || e.PackageID != w.pkg ||
			e.ItemID != w.item || e.ItemName != w.itemName || e.DisputeLost != w.disputeLost ||
			e.PeriodStart.IsZero() == w.granted || (w.granted && !e.PeriodStart.Equal(m.PeriodStart)) ||
			e.CreatedAt.Before(start) || e.ID <= 0 || (i > 0 && e.ID >= got[i-1].ID) {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}

	// At the edges: a last page that is exactly full links to nothing
	// older, and one entry more makes a page of its own.
	for limit, wantPages := range map[int]int{7: 1, 8: 1, 6: 2, 1: 7} {
		all, pages := readAll(limit)
		if pages != wantPages || len(all) != len(got) {
			t.Errorf("limit %d: %d pages of %d entries, want %d pages of %d", limit, pages, len(all), wantPages, len(got))
			continue
		}
		for i := range all {
			if all[i] != got[i] {
				t.Errorf("limit %d: entry %d = %+v, want %+v", limit, i, all[i], got[i])
			}
		}
	}

	empty, err := b.store.Activity(b.ctx, "exp_other", "user_1", 0, 3)
	if err != nil || empty.Balance != 0 || len(empty.Entries) != 0 || empty.Before != 0 {
		t.Fatalf("a wallet that does not exist: %+v %v", empty, err)
	}
}
