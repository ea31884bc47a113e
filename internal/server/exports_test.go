package server_test

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/testkit/utcday"
)

// csvFile fetches a CSV as user and returns the response and its records,
// the header first.
func (a *app) csvFile(path, user string) (*http.Response, [][]string) {
	a.t.Helper()
	res, body := a.get(path, user)
	if res.StatusCode != 200 {
		return res, nil
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		a.t.Fatalf("%s is no CSV: %v", path, err)
	}
	return res, recs
}

// byColumn turns CSV records into maps by the header's names.
func byColumn(recs [][]string) []map[string]string {
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is no integer", s)
	}
	return n
}

// TestCompanyExportReconcilesWithTheDashboard: over the dashboard's window
// the export's sales add up to the dashboard's sales, money and credits,
// the refunds of those sales to its refunds, its grants and expiries to
// its grant figures; payouts are listed; the owner's export is the whole
// app's; only the company's admins get it.
func TestCompanyExportReconcilesWithTheDashboard(t *testing.T) {
	utcday.ClearOfMidnight(t, time.Minute) // its sales, the dashboard's period and yesterday's export in one day
	a := setup(t)
	sd := a.env.Seed
	creator, admin, exp := sd.Creator.ID, sd.Admin.ID, a.experience()
	a.buyIn(exp, a.member(0), "pro")
	_, partly := a.buyIn(exp, a.member(1), "starter")
	_, fully := a.buyIn(exp, a.member(1), "starter")
	a.buyIn(sd.Owner.ExperienceID, a.member(2), "starter") // the owner's own experience
	if err := a.sim.Refund(partly, 250); err != nil {
		t.Fatal(err)
	}
	if err := a.sim.Refund(fully, 499); err != nil {
		t.Fatal(err)
	}
	a.settle()
	// A whole second, as RFC 3339 carries it, 4-5 s ahead: the grant and the
	// spend come before it even on a loaded machine.
	expires := time.Now().Add(4 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	if code, _, raw := a.grantEarly(admin, a.grantBody("g-1", 30, expires.Format(time.RFC3339))); code != 201 {
		t.Fatalf("grant: %d %s", code, raw)
	}
	if code, _, raw := a.grant(admin, a.grantBody("g-2", 8, "")); code != 201 {
		t.Fatalf("grant: %d %s", code, raw)
	}
	if code, _, raw := a.call("POST", "/api/spend", a.member(0), map[string]string{"experience_id": exp, "item": "sticker",
		"idempotency_key": "s1"}); code != 200 {
		t.Fatalf("spend: %d %s", code, raw)
	}
	time.Sleep(time.Until(expires) + 50*time.Millisecond)
	a.advanceJobs()
	a.drain()
	body := payoutBody("p-1", "12.50")
	body["company_id"] = creator
	if code, _, raw := a.payout(body); code != 200 {
		t.Fatalf("payout: %d %s", code, raw)
	}

	_, dash, _ := a.call("GET", "/api/dashboard/"+creator, admin, nil)
	res, recs := a.csvFile("/dashboard/"+creator+"/export.csv", admin)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="creditkit-`+creator+`-`+dash["from"].(string)+`-to-`+dash["to"].(string)+`.csv"` {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	if !slices.Equal(recs[0], []string{"created_at", "type", "entry_id", "experience_id", "member_id", "reference", "payment_id",
		"credits", "amount", "fee", "currency", "status", "description"}) {
		t.Fatalf("header = %v", recs[0])
	}
	rows := byColumn(recs)
	sums := map[string]int64{}
	sold := map[string]bool{}
	var last time.Time
	for _, r := range rows {
		at, err := time.Parse(time.RFC3339, r["created_at"])
		if err != nil || at.Before(last.Truncate(time.Second)) {
			t.Errorf("row %v: time %q out of order", r, r["created_at"])
		}
		last = at
		typ := r["type"]
		sums[typ+".n"]++
		sums[typ+".credits"] += atoi(t, r["credits"])
		sums[typ+".amount"] += atoi(t, r["amount"])
		switch typ {
		case "sale":
			sold[r["reference"]] = true
			p, err := a.store.Purchase(a.ctx, r["reference"])
			if err != nil || r["experience_id"] != exp || r["member_id"] != p.UserID || r["payment_id"] != p.PaymentID ||
				r["currency"] != "usd" || r["description"] != p.PackageID || r["entry_id"] == "" {
				t.Errorf("sale row %v for %+v", r, p)
			}
		case "refund":
			if !sold[r["reference"]] {
				t.Errorf("refund %v of a sale not in the file", r)
			}
		case "grant", "grant_expiry":
			if r["currency"] != "" || r["amount"] != "0" || r["description"] != "Thanks for the beta feedback" || r["entry_id"] == "" {
				t.Errorf("%s row %v", typ, r)
			}
		case "payout":
			if r["amount"] != "-1250" || r["fee"] != "25" || r["status"] != "paid" || r["currency"] != "usd" ||
				r["member_id"] != a.member(0) || r["entry_id"] != "" || !strings.HasPrefix(r["reference"], "po_") {
				t.Errorf("payout row %v", r)
			}
		default:
			t.Errorf("row of type %q", typ)
		}
	}
	for key, want := range map[string]float64{
		"sale.n": num(dash, "totals.sales"), "sale.amount": num(dash, "totals.taken"), "sale.credits": num(dash, "totals.credits"),
		"refund.amount": -num(dash, "totals.refunded"), "refund.credits": -num(dash, "totals.refunded_credits"),
		"grant.n": num(dash, "grants.grants"), "grant.credits": num(dash, "grants.granted"),
		"grant_expiry.n": num(dash, "grants.expiries"), "grant_expiry.credits": -num(dash, "grants.expired"),
		"payout.n": 1,
	} {
		if float64(sums[key]) != want {
			t.Errorf("export %s = %d, dashboard says %v", key, sums[key], want)
		}
	}
	// The figures themselves, so the reconciliation is not of zeros.
	if sums["sale.n"] != 3 || sums["sale.amount"] != 2499+499+499 || sums["refund.amount"] != -749 || sums["refund.credits"] != -151 ||
		sums["grant.credits"] != 38 || sums["grant_expiry.credits"] != -25 {
		t.Errorf("export sums = %v", sums)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
		WHERE w.experience_id = $1 AND e.kind IN ('purchase', 'refund', 'grant', 'expiry')`, exp); n != len(rows)-1 {
		t.Errorf("%d sale, refund, grant and expiry entries, %d such rows", n, len(rows)-1)
	}

	// The owner's export is the whole app's, reconciled with its own dashboard.
	owner := a.ownerDashboard()
	_, recs = a.csvFile("/dashboard/"+sd.Owner.ID+"/export.csv", sd.OwnerAdmin.ID)
	var ownerSales, ownerTaken int64
	for _, r := range byColumn(recs) {
		if r["type"] == "sale" {
			ownerSales++
			ownerTaken += atoi(t, r["amount"])
		}
		if r["type"] == "payout" {
			t.Errorf("the owner's export lists the creator's payout %v", r)
		}
	}
	if float64(ownerSales) != num(owner, "totals.sales") || float64(ownerTaken) != num(owner, "totals.taken") || ownerSales != 4 {
		t.Errorf("owner's export: %d sales, %d taken; dashboard %v, %v", ownerSales, ownerTaken, num(owner, "totals.sales"), num(owner, "totals.taken"))
	}

	// A period before any of it: the header alone.
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	if res, recs := a.csvFile("/dashboard/"+creator+"/export.csv?from="+yesterday+"&to="+yesterday, admin); res.StatusCode != 200 || len(recs) != 1 {
		t.Errorf("yesterday's export: %d, %d records", res.StatusCode, len(recs))
	}
	for _, c := range []struct {
		path, user string
		code       int
	}{
		{"/dashboard/" + creator + "/export.csv", a.member(0), 403},
		{"/dashboard/" + sd.Owner.ID + "/export.csv", admin, 403},
		{"/dashboard/" + creator + "/export.csv?from=yesterday", admin, 400},
		{"/dashboard/" + creator + "/export.csv?from=2026-02-30", admin, 400},
		{"/dashboard/" + creator + "/export.csv?from=2026-03-02&to=2026-03-01", admin, 400},
		{"/dashboard/" + creator + "/export.csv?from=2024-01-01&to=2026-01-01", admin, 400},
	} {
		if res, _ := a.get(c.path, c.user); res.StatusCode != c.code {
			t.Errorf("GET %s as %s: %d, want %d", c.path, c.user, res.StatusCode, c.code)
		}
	}
}

// TestMemberHistoryCSVIsTheLedgerStreamed: the member's CSV is every entry
// of their wallet, oldest first, with each running balance, the last one
// the balance; it goes out in pages as it is read (chunked, no length),
// and holds nobody else's entries.
func TestMemberHistoryCSVIsTheLedgerStreamed(t *testing.T) {
	a := setup(t)
	alice, exp := a.member(0), a.experience()
	pur, pay := a.buyIn(exp, alice, "pro")
	for i := range 700 { // more than one page of the export
		if _, err := a.store.Spend(a.ctx, ledger.SpendRequest{ExperienceID: exp, UserID: alice, ItemID: "sticker",
			Title: "Sticker pack", Cost: 1, IdempotencyKey: "k" + strconv.Itoa(i)}); err != nil && i < 600 {
			t.Fatal(err)
		}
	}
	if code, _, raw := a.grant(a.env.Seed.Admin.ID, a.grantBody("g-1", 12, "")); code != 201 {
		t.Fatalf("grant: %d %s", code, raw)
	}
	if err := a.sim.Refund(pay, 2499); err != nil {
		t.Fatal(err)
	}
	a.settle()
	_, page := a.get("/experiences/"+exp+"/activity", alice)
	if !strings.Contains(page, `href="/experiences/`+exp+`/activity.csv" download data-testid="activity-csv"`) {
		t.Fatal("the activity page does not link its CSV")
	}
	res, recs := a.csvFile("/experiences/"+exp+"/activity.csv", alice)
	if res.StatusCode != 200 || res.ContentLength != -1 || !slices.Equal(res.TransferEncoding, []string{"chunked"}) ||
		res.Header.Get("Content-Disposition") != `attachment; filename="creditkit-activity-`+exp+`.csv"` {
		t.Fatalf("history CSV: %d, length %d, encoding %v, %v", res.StatusCode, res.ContentLength, res.TransferEncoding, res.Header)
	}
	if !slices.Equal(recs[0], []string{"entry_id", "created_at", "type", "credits", "balance_after", "amount", "currency",
		"reference", "description"}) {
		t.Fatalf("header = %v", recs[0])
	}
	rows := byColumn(recs)
	entries, _ := a.store.Entries(a.ctx, exp, alice)
	if len(rows) != len(entries) || len(rows) != 1+600+1+1 {
		t.Fatalf("%d rows for %d entries", len(rows), len(entries))
	}
	var running int64
	for i, r := range rows {
		running += atoi(t, r["credits"])
		if r["entry_id"] != strconv.FormatInt(entries[i].ID, 10) || atoi(t, r["balance_after"]) != running {
			t.Fatalf("row %d = %v, want entry %d with running balance %d", i, r, entries[i].ID, running)
		}
	}
	first, grant, refund := rows[0], rows[601], rows[602]
	if first["type"] != "purchase" || first["credits"] != "600" || first["amount"] != "2499" || first["currency"] != "usd" ||
		first["reference"] != pur || first["description"] != "pro" {
		t.Errorf("purchase row = %v", first)
	}
	if rows[1]["type"] != "spend" || rows[1]["credits"] != "-1" || rows[1]["amount"] != "0" || rows[1]["currency"] != "" ||
		rows[1]["description"] != "Sticker pack" || !strings.HasPrefix(rows[1]["reference"], "spend_") {
		t.Errorf("spend row = %v", rows[1])
	}
	if grant["type"] != "grant" || grant["credits"] != "12" || !strings.HasPrefix(grant["reference"], "grt_") ||
		grant["description"] != "Thanks for the beta feedback" {
		t.Errorf("grant row = %v", grant)
	}
	if refund["type"] != "refund" || refund["credits"] != "-600" || refund["amount"] != "-2499" || refund["currency"] != "usd" ||
		refund["reference"] != pur {
		t.Errorf("refund row = %v", refund)
	}
	if running != a.balance(alice) {
		t.Errorf("the CSV ends at %d, the balance is %d", running, a.balance(alice))
	}
	if res, recs := a.csvFile("/experiences/"+exp+"/activity.csv", a.member(1)); res.StatusCode != 200 || len(recs) != 1 {
		t.Errorf("another member's CSV: %d, %d records", res.StatusCode, len(recs))
	}
	if res, _ := a.get("/experiences/"+exp+"/activity.csv", a.env.Seed.NoAccess.ID); res.StatusCode != 403 {
		t.Errorf("a user without access: %d", res.StatusCode)
	}
}

// TestMemberHistoryCSVHasTheMoneyOfEveryRefund: a refund too small to take
// back a whole credit more is a row of money alone in the member's CSV, so
// its money column adds up to what they paid less what they got back. (A
// refund of $1.50 of $4.99 takes 31 of 100 credits, which $1.51 still
// covers: the cent after it takes none; the rest, the other 69. The
// sandbox refunds a payment once, so the three are settled as the
// webhooks of Whop's would settle them.)
func TestMemberHistoryCSVHasTheMoneyOfEveryRefund(t *testing.T) {
	a := setup(t)
	alice, exp := a.member(0), a.experience()
	pur, pay := a.buyIn(exp, alice, "starter")
	for _, r := range []struct{ amount, credits int64 }{{150, 31}, {151, 31}, {499, 100}} { // so far
		if _, err := a.store.Settle(a.ctx, ledger.Settlement{PurchaseID: pur, PaymentID: pay, PaidAmount: 499,
			RefundedAmount: r.amount, RefundedCredits: r.credits}, nil); err != nil {
			t.Fatal(err)
		}
	}
	res, recs := a.csvFile("/experiences/"+exp+"/activity.csv", alice)
	if res.StatusCode != 200 {
		t.Fatalf("history CSV: %d", res.StatusCode)
	}
	rows := byColumn(recs)
	entries, _ := a.store.Entries(a.ctx, exp, alice)
	if len(entries) != 3 || len(rows) != 4 {
		t.Fatalf("%d rows for %d entries, want 4 for 3: %v", len(rows), len(entries), rows)
	}
	want := []map[string]string{
		{"entry_id": strconv.FormatInt(entries[0].ID, 10), "type": "purchase", "credits": "100", "balance_after": "100", "amount": "499"},
		{"entry_id": strconv.FormatInt(entries[1].ID, 10), "type": "refund", "credits": "-31", "balance_after": "69", "amount": "-150"},
		{"entry_id": "", "type": "refund", "credits": "0", "balance_after": "69", "amount": "-1"},
		{"entry_id": strconv.FormatInt(entries[2].ID, 10), "type": "refund", "credits": "-69", "balance_after": "0", "amount": "-348"},
	}
	var money, credits int64
	for i, r := range rows {
		money, credits = money+atoi(t, r["amount"]), credits+atoi(t, r["credits"])
		for k, v := range want[i] {
			if r[k] != v {
				t.Errorf("row %d %s = %q, want %q (%v)", i, k, r[k], v, r)
			}
		}
		if r["currency"] != "usd" || r["reference"] != pur || r["description"] != "starter" || r["created_at"] == "" {
			t.Errorf("row %d = %v", i, r)
		}
	}
	if money != 0 || credits != 0 || a.balance(alice) != 0 {
		t.Errorf("the CSV's money sums to %d and its credits to %d (balance %d), want 0 and 0", money, credits, a.balance(alice))
	}
}
