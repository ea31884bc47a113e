package whopsim_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// pages lists payments with query, following end_cursor the way the
// official client does (until it is null), and returns the ids in order
// and the number of pages.
func (b *bundle) pages(query string) (ids []string, pages int) {
	b.t.Helper()
	after := ""
	for {
		q := "/api/v1/payments?company_id=" + b.Seed.Owner.ID + query
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		out := b.mustAPI("GET", q, nil)
		pages++
		for _, p := range at(b.t, out, "data").([]any) {
			ids = append(ids, str(b.t, p, "id"))
		}
		end := at(b.t, out, "page_info.end_cursor")
		next := str(b.t, out, "page_info.has_next_page")
		if (end == nil) != (next == "false") {
			b.t.Fatalf("page %d: end_cursor %v with has_next_page %s", pages, end, next)
		}
		if end == nil {
			return ids, pages
		}
		after = end.(string)
		if pages > 50 {
			b.t.Fatal("pagination never ended")
		}
	}
}

func TestListPaymentsToTheEnd(t *testing.T) {
	b := setup(t)
	var bought []string
	for i := range 7 {
		pay, _ := b.buy("1", map[string]any{"n": i})
		bought = append(bought, pay)
		b.clock.Advance(time.Minute)
	}
	newest := slices.Clone(bought)
	slices.Reverse(newest)

	ids, pages := b.pages("&first=3")
	if !slices.Equal(ids, newest) || pages != 3 {
		t.Errorf("first=3: %d pages of %v, want 3 pages of %v (newest first)", pages, ids, newest)
	}
	ids, pages = b.pages("&first=3&direction=asc")
	if !slices.Equal(ids, bought) || pages != 3 {
		t.Errorf("direction=asc: %d pages of %v, want %v", pages, ids, bought)
	}
	ids, pages = b.pages("&first=7")
	if len(ids) != 7 || pages != 1 {
		t.Errorf("first=7: %d pages of %d, want one page with end_cursor null", pages, len(ids))
	}
	ids, _ = b.pages("")
	if len(ids) != 7 {
		t.Errorf("default page size listed %d", len(ids))
	}

	out := b.mustAPI("GET", "/api/v1/payments?company_id="+b.Seed.Owner.ID+"&first=2", nil)
	fields(t, out, map[string]string{"page_info.has_previous_page": "false", "page_info.has_next_page": "true"})
	second := b.mustAPI("GET", "/api/v1/payments?company_id="+b.Seed.Owner.ID+"&first=2&after="+
		url.QueryEscape(str(t, out, "page_info.end_cursor")), nil)
	fields(t, second, map[string]string{"page_info.has_previous_page": "true", "data.0.id": newest[2]})
	back := b.mustAPI("GET", "/api/v1/payments?company_id="+b.Seed.Owner.ID+"&last=2&before="+
		url.QueryEscape(str(t, second, "page_info.start_cursor")), nil)
	fields(t, back, map[string]string{"data.0.id": newest[0], "data.1.id": newest[1]})
	// A cursor is a position in one order; another order refuses it.
	if status, out := b.api("GET", "/api/v1/payments?company_id="+b.Seed.Owner.ID+"&order=paid_at&after="+
		url.QueryEscape(str(t, out, "page_info.end_cursor")), nil); status != 400 {
		t.Errorf("a created_at cursor with order=paid_at = %d %v, want 400", status, out)
	}
}

func TestListPaymentsFilters(t *testing.T) {
	b := setup(t)
	first, co1 := b.buy("1", nil)
	b.clock.Advance(time.Hour)
	second, _ := b.buy("2", nil)
	b.clock.Advance(time.Hour)
	co3, plan3 := b.inlineCheckout("3", nil)
	declined, err := b.Sim.Decline(whopsim.Purchase{CheckoutID: co3, PlanID: plan3})
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Hour)
	if err := b.Sim.Refund(first, 0); err != nil {
		t.Fatal(err)
	}
	iso := func(d time.Duration) string { return url.QueryEscape(start.Add(d).Format(time.RFC3339)) }
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{declined.ReceiptID, second, first}},
		{"&statuses[]=paid", []string{second, first}},
		{"&statuses=open", []string{declined.ReceiptID}},
		{"&statuses[]=paid&statuses[]=open", []string{declined.ReceiptID, second, first}},
		{"&substatuses[]=refunded", []string{first}},
		{"&checkout_configuration_ids[]=" + co1, []string{first}},
		{"&checkout_configuration_ids[]=" + co1 + "&checkout_configuration_ids[]=" + co3, []string{declined.ReceiptID, first}},
		{"&plan_ids[]=" + plan3, []string{declined.ReceiptID}},
		{"&created_after=" + iso(30*time.Minute), []string{declined.ReceiptID, second}},
		{"&created_before=" + iso(30*time.Minute), []string{first}},
		{"&updated_after=" + iso(150*time.Minute), []string{first}},
		{"&updated_before=" + iso(150*time.Minute), []string{declined.ReceiptID, second}},
		{"&order=paid_at&direction=asc", []string{declined.ReceiptID, first, second}},
	}
	for _, tt := range tests {
		if ids, _ := b.pages(tt.query); !slices.Equal(ids, tt.want) {
			t.Errorf("%s: %v, want %v", tt.query, ids, tt.want)
		}
	}

	other := b.mustAPI("GET", "/api/v1/payments?company_id="+b.Seed.Creator.ID, nil)
	fields(t, other, map[string]string{"page_info.end_cursor": "<null>", "page_info.start_cursor": "<null>",
		"page_info.has_next_page": "false"})
	for _, q := range []string{"", "?company_id=biz_nope", "?company_id=" + b.Seed.Owner.ID + "&created_after=yesterday",
		"?company_id=" + b.Seed.Owner.ID + "&first=0", "?company_id=" + b.Seed.Owner.ID + "&after=%25%25"} {
		if status, out := b.api("GET", "/api/v1/payments"+q, nil); status != 400 && status != 404 {
			t.Errorf("GET /payments%s = %d %v, want a 4xx", q, status, out)
		}
	}
}

// TestACursorOutlivesItsRecordLeavingTheFilter: a cursor is a position in
// the list's order, not a record to look for. When the record at the end of
// a page stops matching the filter (refunded while a client pages through
// substatus succeeded, a membership cancelled while it pages through the
// active ones), the next page goes on after where that record was: no
// record listed twice, none skipped. So does a page before a start cursor
// whose record left.
func TestACursorOutlivesItsRecordLeavingTheFilter(t *testing.T) {
	tests := []struct {
		name   string
		list   string // path and filter, without the cursor
		make   func(b *bundle) string
		remove func(b *bundle, id string) error
	}{
		{"payments newest first", "/api/v1/payments?substatuses[]=succeeded&first=2",
			func(b *bundle) string { id, _ := b.buy("1", nil); return id },
			func(b *bundle, id string) error { return b.Sim.Refund(id, 0) }},
		{"payments oldest first", "/api/v1/payments?substatuses[]=succeeded&first=2&direction=asc",
			func(b *bundle) string { id, _ := b.buy("1", nil); return id },
			func(b *bundle, id string) error { return b.Sim.Refund(id, 0) }},
		{"payments by paid_at", "/api/v1/payments?substatuses[]=succeeded&first=2&order=paid_at",
			func(b *bundle) string { id, _ := b.buy("1", nil); return id },
			func(b *bundle, id string) error { return b.Sim.Refund(id, 0) }},
		{"active memberships", "/api/v1/memberships?statuses[]=active&first=2",
			func(b *bundle) string {
				res, err := b.Sim.Pay(whopsim.Purchase{PlanID: b.Seed.PremiumPlanID, UserID: b.Seed.Members[0].ID})
				if err != nil {
					b.t.Fatal(err)
				}
				return str(b.t, b.mustAPI("GET", "/api/v1/payments/"+res.ReceiptID, nil), "membership.id")
			},
			func(b *bundle, id string) error { return b.Sim.DeactivateMembership(id) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			list := tt.list + "&company_id=" + b.Seed.Owner.ID
			for range 5 {
				tt.make(b)
				b.clock.Advance(time.Minute)
			}
			ids := func(out any) []string {
				var ids []string
				for _, rec := range at(t, out, "data").([]any) {
					ids = append(ids, str(t, rec, "id"))
				}
				return ids
			}
			all := ids(b.mustAPI("GET", strings.Replace(list, "first=2", "first=100", 1), nil))
			if len(all) < 5 {
				t.Fatalf("listed %v, want at least the 5 made", all)
			}

			var got []string
			page := b.mustAPI("GET", list, nil)
			got = append(got, ids(page)...)
			boundary, cursor := got[len(got)-1], str(t, page, "page_info.end_cursor")
			if err := tt.remove(b, boundary); err != nil {
				t.Fatal(err)
			}
			for pages := 1; str(t, page, "page_info.end_cursor") != "<null>"; pages++ {
				if pages > 10 {
					t.Fatalf("still paging after %d pages: %v", pages, got)
				}
				page = b.mustAPI("GET", list+"&after="+url.QueryEscape(str(t, page, "page_info.end_cursor")), nil)
				got = append(got, ids(page)...)
			}
			if !slices.Equal(got, all) {
				t.Errorf("paged through %v after %s left the filter, want %v: each once, in order", got, boundary, all)
			}

			// Backwards: once page 2's first record has left as well, the
			// page before it is what is left of page 1.
			second := b.mustAPI("GET", list+"&after="+url.QueryEscape(cursor), nil)
			startID := ids(second)[0]
			if err := tt.remove(b, startID); err != nil {
				t.Fatal(err)
			}
			back := b.mustAPI("GET", strings.Replace(list, "first=2", "last=2", 1)+"&before="+
				url.QueryEscape(str(t, second, "page_info.start_cursor")), nil)
			if want := all[:1]; !slices.Equal(ids(back), want) {
				t.Errorf("the page before %s (left the filter) = %v, want %v", startID, ids(back), want)
			}
		})
	}
}
