package server_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// ownerDashboard reads GET /api/dashboard/{owner} as the owner's admin.
func (a *app) ownerDashboard() map[string]any {
	a.t.Helper()
	code, out, raw := a.call("GET", "/api/dashboard/"+a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID, nil)
	if code != 200 {
		a.t.Fatalf("owner dashboard API: %d %s", code, raw)
	}
	return out
}

func num(m map[string]any, path string) float64 {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		v = v.(map[string]any)[k]
	}
	f, _ := v.(float64)
	return f
}

// TestOwnerSeesTheWholeApp: sales in a creator's experience and in the
// owner's own, a refund and the shares; the owner's JSON has every figure
// from the books, one row per installing company and a clean comparison
// with Whop; a payment whose webhook was lost is named, on the page too;
// and a Whop that does not answer costs that line only.
func TestOwnerSeesTheWholeApp(t *testing.T) {
	a := setup(t, withShare(1000))
	sd := a.env.Seed
	a.buyIn(a.experience(), a.member(0), "pro")                    // $24.99, share $2.49
	_, refunded := a.buyIn(a.experience(), a.member(1), "starter") // $4.99, share $0.49
	a.buyIn(sd.Owner.ExperienceID, a.member(2), "starter")         // $4.99, no share
	a.drain()                                                      // the shares are paid
	if err := a.sim.Refund(refunded, 499); err != nil {            // refunded in full after its share was paid
		t.Fatal(err)
	}
	a.settle()

	out := a.ownerDashboard()
	for path, want := range map[string]float64{
		"totals.sales": 3, "totals.taken": 3497, "totals.refunded": 499, "totals.net": 2998, "totals.credits": 800,
		"app.shares.paid": 298, "app.shares.pending": 0, "app.shares.owed_back": 49, "app.shares.count": 2,
		"app.net": 3497 - 499 - 298, "app.books.matched": 3,
		"totals.refunded_credits": 100, "totals.disputes": 0, "totals.disputed": 0,
		"app.shares.failed": 0, "app.shares.withheld": 0, "app.shares.cancelled": 0, "app.shares.refunded_shares": 1,
	} {
		if got := num(out, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	cleanBooks := out["app"].(map[string]any)["books"].(map[string]any)
	if out["role"] != "owner" || out["currency"] != "usd" || cleanBooks["clean"] != true || cleanBooks["whop_read"] != true ||
		cleanBooks["error"] != nil || cleanBooks["incomplete"] != false || len(cleanBooks["whop_only"].([]any)) != 0 || len(cleanBooks["ours_only"].([]any)) != 0 {
		t.Errorf("role %v currency %v books %v", out["role"], out["currency"], cleanBooks)
	}
	lastSale := func(company string) time.Time {
		t.Helper()
		var at time.Time
		if err := a.db.Pool.QueryRow(a.ctx, `SELECT max(fulfilled_at) FROM purchases WHERE company_id = $1`, company).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	companies := out["app"].(map[string]any)["companies"].([]any)
	want := map[string][]float64{ // experiences, sales, taken, refunded, share paid
		sd.Creator.ID: {1, 2, 2998, 499, 298},
		sd.Owner.ID:   {1, 1, 499, 0, 0},
	}
	titles := map[string]string{sd.Creator.ID: "Pixel Guild", sd.Owner.ID: "Creditkit Labs"}
	if len(companies) != 2 {
		t.Fatalf("companies = %v, want the creator and the owner", companies)
	}
	for _, c := range companies {
		c := c.(map[string]any)
		w := want[c["company_id"].(string)]
		got := []float64{num(c, "experiences"), num(c, "sales"), num(c, "taken"), num(c, "refunded"), num(c, "share_paid")}
		id := c["company_id"].(string)
		if w == nil || got[0] != w[0] || got[1] != w[1] || got[2] != w[2] || got[3] != w[3] || got[4] != w[4] ||
			c["title"] != titles[id] || c["last_sale"] != lastSale(id).UTC().Format(time.RFC3339) {
			t.Errorf("company %v = %v %v last sale %v, want %v %v %s", id, got, c["title"], c["last_sale"], w, titles[id], lastSale(id))
		}
	}
	if companies[0].(map[string]any)["title"] != "Pixel Guild" {
		t.Errorf("busiest company first, by name: %v", companies[0])
	}

	// A creator's admins get their own experiences, and no app section; a
	// creator's admin asking for the owner's gets 403.
	code, mine, _ := a.call("GET", "/api/dashboard/"+sd.Creator.ID, sd.Admin.ID, nil)
	if code != 200 || mine["role"] != "creator" || mine["app"] != nil || num(mine, "totals.taken") != 2998 {
		t.Errorf("creator's dashboard API = %d %v", code, mine)
	}
	if code, _, _ := a.call("GET", "/api/dashboard/"+sd.Owner.ID, sd.Admin.ID, nil); code != 403 {
		t.Errorf("a creator's admin reading the owner's = %d, want 403", code)
	}
	if code, _, _ := a.call("GET", "/api/dashboard/"+sd.Owner.ID, a.member(0), nil); code != 403 {
		t.Errorf("a member reading the owner's = %d, want 403", code)
	}

	// A payment whose webhook never comes, and no reconciler run.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 100 })
	ch, plan, lost := a.charge(a.member(0), "starter")
	lostPay := a.pay(ch, plan, a.member(0))
	a.settle()
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 0 })
	books := a.ownerDashboard()["app"].(map[string]any)["books"].(map[string]any)
	only := books["whop_only"].([]any)
	if books["clean"] != false || len(only) != 1 || len(books["ours_only"].([]any)) != 0 {
		t.Fatalf("books after a lost webhook = %v", books)
	}
	if d := only[0].(map[string]any); d["payment_id"] != lostPay || d["purchase_id"] != lost || d["amount"] != float64(499) || d["state"] != "pending" || d["refused"] != nil {
		t.Errorf("difference = %v, want %s of purchase %s, $4.99, pending", d, lostPay, lost)
	}
	_, body := a.get("/dashboard/"+sd.Owner.ID, sd.OwnerAdmin.ID)
	p := parsePage(t, body)
	if line := p.text("books-line"); line != "3 payments on both sides; 1 at Whop only, 0 in our books only." {
		t.Errorf("books line = %q", line)
	}
	if d := p.text("books-diff-" + lostPay); !strings.Contains(d, lostPay+" at Whop only: $4.99") || !strings.Contains(d, "our purchase "+lost+" is pending") {
		t.Errorf("difference on the page = %q", d)
	}
	for id, want := range map[string]string{
		"stat-gross": "Taken $34.97 3 sales in 2 companies, 30 days", "app-shares-paid": "Shares paid $2.98 to creators, for these sales",
		"app-shares-pending": "Shares pending $0.00 retried until Whop pays",
		"app-owed-back":      "Owed back $0.49 shares paid on sales refunded since; not moved automatically",
		"app-net":            "Net to you $27.00 taken − refunds − shares, before Whop's fees",
	} {
		if got := p.text(id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	// The installing companies' table: name (and id), experiences, sales,
	// taken, share paid (none to the owner itself) and last sale.
	for id, want := range map[string][]string{
		sd.Creator.ID: {"Pixel Guild " + sd.Creator.ID, "1", "2", "$29.98", "$2.98", lastSale(sd.Creator.ID).UTC().Format("Jan 2, 15:04") + " UTC"},
		sd.Owner.ID:   {"Creditkit Labs (you) " + sd.Owner.ID, "1", "1", "$4.99", "—", lastSale(sd.Owner.ID).UTC().Format("Jan 2, 15:04") + " UTC"},
	} {
		if got := p.cells("company-" + id); !slices.Equal(got, want) {
			t.Errorf("row of %s = %q, want %q", id, got, want)
		}
	}

	// Whop down: the page still answers with our books and says so.
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate, f.APIFailureStatus = 1, 503 })
	res, body := a.get("/dashboard/"+sd.Owner.ID, sd.OwnerAdmin.ID)
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.APIFailureRate = 0 })
	p = parsePage(t, body)
	if res.StatusCode != 200 || !strings.HasPrefix(p.text("books-line"), "Whop could not be read just now") || p.text("stat-gross") != "Taken $34.97 3 sales in 2 companies, 30 days" {
		t.Errorf("with Whop down: %d, books %q, taken %q", res.StatusCode, p.text("books-line"), p.text("stat-gross"))
	}
}

// TestBooksSayWhenWeRefusedAPayment: a payment Whop took that we refused
// to fulfil (here another member paid alice's checkout) is on Whop's side
// only, but not because a webhook was lost: the books line says we refused
// it and why, which the reconciler will not change.
func TestBooksSayWhenWeRefusedAPayment(t *testing.T) {
	a := setup(t)
	ch, plan, pur := a.charge(a.member(0), "starter")
	paid := a.pay(ch, plan, a.member(1))
	a.settle()
	books := a.ownerDashboard()["app"].(map[string]any)["books"].(map[string]any)
	only := books["whop_only"].([]any)
	if books["clean"] != false || len(only) != 1 {
		t.Fatalf("books = %v", books)
	}
	d := only[0].(map[string]any)
	if d["payment_id"] != paid || d["purchase_id"] != pur || d["state"] != "pending" || d["refused"] != "payment user is not the purchase's user" {
		t.Errorf("difference = %v, want %s of purchase %s, pending, refused for its user", d, paid, pur)
	}
	_, body := a.get("/dashboard/"+a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID)
	line := parsePage(t, body).text("books-diff-" + paid)
	if !strings.Contains(line, "we refused it for purchase "+pur+" (payment user is not the purchase's user)") ||
		strings.Contains(line, "webhook has not arrived") {
		t.Errorf("difference on the page = %q", line)
	}
}

// TestOwnerSummaryCountsTheWindowsCompanies: a company whose only sale is
// older than the window stays in the table (with no sales in it) but is
// not one of the companies the period's sales were made in; and one
// payment reads as one.
func TestOwnerSummaryCountsTheWindowsCompanies(t *testing.T) {
	a := setup(t)
	sd := a.env.Seed
	old, _ := a.buyIn(a.experience(), a.member(0), "starter")
	if _, err := a.db.Pool.Exec(a.ctx, `UPDATE purchases SET fulfilled_at = fulfilled_at - interval '40 days' WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	a.buyIn(sd.Owner.ExperienceID, a.member(1), "starter")
	_, body := a.get("/dashboard/"+sd.Owner.ID, sd.OwnerAdmin.ID)
	p := parsePage(t, body)
	for id, want := range map[string]string{
		"stat-gross": "Taken $4.99 1 sale in 1 company, 30 days",
		"books-line": "Our books match Whop: 1 payment on both sides, none on one side only.",
	} {
		if got := p.text(id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := p.cells("company-" + sd.Creator.ID); len(got) != 6 || got[2] != "0" || got[3] != "$0.00" {
		t.Errorf("the creator's row = %q, want it listed with no sales in the window", got)
	}
}

// shiftedClock is the wall clock moved by an offset the test sets, for a
// sandbox whose payments were made weeks ago.
type shiftedClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *shiftedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *shiftedClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

func (c *shiftedClock) shift(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

// TestAPaymentMadeBeforeWhopsListIsOnBothSides: a payment made 40 days
// ago, its webhook lost, is disputed and the dispute won today, which
// credits it today. Whop's list for the books line starts 72 hours before
// the period and so does not hold it; the line asks Whop for it rather
// than say "Whop does not list this payment as paid" of a payment Whop
// holds as paid.
func TestAPaymentMadeBeforeWhopsListIsOnBothSides(t *testing.T) {
	clock := &shiftedClock{}
	a := setup(t, withSim(func(o *whopsim.Options) { o.Clock = clock }))
	user := a.member(0)
	ch, plan, pur := a.charge(user, "starter")
	a.sim.UpdateFaults(func(f *whopsim.Faults) { f.DropNext = 1 })
	clock.shift(-40 * 24 * time.Hour)
	receipt := a.pay(ch, plan, user)
	a.settle()
	clock.shift(0)
	a.decideDispute(receipt, "won")
	if p, _ := a.store.Purchase(a.ctx, pur); p.Status != "paid" || p.PaymentID != receipt || time.Since(p.FulfilledAt) > time.Minute {
		t.Fatalf("purchase = %+v, want paid by %s today", p, receipt)
	}
	books := a.ownerDashboard()["app"].(map[string]any)["books"].(map[string]any)
	if books["clean"] != true || books["matched"] != float64(1) || len(books["ours_only"].([]any)) != 0 || len(books["whop_only"].([]any)) != 0 {
		t.Fatalf("books = %v, want the payment on both sides", books)
	}
	_, body := a.get("/dashboard/"+a.env.Seed.Owner.ID, a.env.Seed.OwnerAdmin.ID)
	assertLacks(t, "the owner's dashboard", body, `data-testid="books-diff-`+receipt+`"`, "Whop does not list this payment as paid")
}
