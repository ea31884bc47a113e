package whop

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// pagedPayments serves payments pay_1…pay_5 over three pages, with the last
// page's end_cursor null as Whop sends it.
func pagedPayments(w http.ResponseWriter, r *http.Request) {
	pages := map[string]string{
		"":   `{"data":[{"id":"pay_1","total":1},{"id":"pay_2","total":2}],"page_info":{"end_cursor":"c1","has_next_page":true}}`,
		"c1": `{"data":[{"id":"pay_3","total":3},{"id":"pay_4","total":4}],"page_info":{"end_cursor":"c2","has_next_page":true}}`,
		"c2": `{"data":[{"id":"pay_5","total":5}],"page_info":{"end_cursor":null,"start_cursor":"c2","has_next_page":false}}`,
	}
	body, ok := pages[r.URL.Query().Get("after")]
	if !ok {
		reply(w, http.StatusBadRequest, `{"error":{"code":"invalid_cursor","message":"bad cursor"}}`)
		return
	}
	reply(w, http.StatusOK, body)
}

func TestListPaymentsFollowsCursorToTheEnd(t *testing.T) {
	c, f := setup(t, pagedPayments)
	since := time.Date(2025, 1, 1, 5, 0, 0, 401_000_000, time.UTC)
	var ids []string
	for p, err := range c.ListPayments(t.Context(), ListPaymentsParams{
		CompanyID: "biz_1", Statuses: []PaymentStatus{PaymentPaid, PaymentPending},
		Substatuses: []PaymentSubstatus{SubstatusSucceeded}, PlanIDs: []string{"plan_1"}, ProductIDs: []string{"prod_1"},
		CheckoutConfigurationIDs: []string{"ch_1", "ch_2"}, CreatedAfter: since, UpdatedBefore: since.Add(time.Hour),
		Order: "created_at", Direction: "asc", PageSize: 2,
	}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprintf("%s:%d", p.ID, p.Total))
	}
	if got := strings.Join(ids, ","); got != "pay_1:100,pay_2:200,pay_3:300,pay_4:400,pay_5:500" {
		t.Errorf("payments = %s", got)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("made %d requests, want 3", len(reqs))
	}
	q := reqs[0].Query
	for key, want := range map[string]string{
		"company_id": "biz_1", "statuses[]": "paid,pending", "substatuses[]": "succeeded", "plan_ids[]": "plan_1",
		"product_ids[]": "prod_1", "checkout_configuration_ids[]": "ch_1,ch_2",
		"created_after": "2025-01-01T05:00:00.401Z", "updated_before": "2025-01-01T06:00:00.401Z",
		"order": "created_at", "direction": "asc", "first": "2", "after": "",
	} {
		if got := strings.Join(q[key], ","); got != want {
			t.Errorf("query %s = %q, want %q", key, got, want)
		}
	}
	if len(q) != 11 {
		t.Errorf("query has unexpected keys: %v", q)
	}
	for i, after := range []string{"", "c1", "c2"} {
		assertRequest(t, reqs[i], http.MethodGet, "/api/v1/payments")
		if got := reqs[i].Query.Get("after"); got != after {
			t.Errorf("request %d after = %q, want %q", i, got, after)
		}
	}
}

func TestListPaymentsStopsWhenCallerBreaks(t *testing.T) {
	for _, stopAfter := range []int{1, 3} {
		c, f := setup(t, pagedPayments)
		n := 0
		for _, err := range c.ListPayments(t.Context(), ListPaymentsParams{CompanyID: "biz_1"}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == stopAfter {
				break
			}
		}
		wantReqs := (stopAfter + 1) / 2 // two payments per page
		if got := len(f.requests()); got != wantReqs {
			t.Errorf("break after %d: made %d requests, want %d", stopAfter, got, wantReqs)
		}
	}
}

func TestListPaymentsRestartsOnEachRange(t *testing.T) {
	c, f := setup(t, pagedPayments)
	seq := c.ListPayments(t.Context(), ListPaymentsParams{CompanyID: "biz_1"})
	for range 2 {
		n := 0
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 5 {
			t.Errorf("ranged over %d payments, want 5", n)
		}
	}
	if got := len(f.requests()); got != 6 {
		t.Errorf("made %d requests, want 6", got)
	}
}

func TestListPaymentsEndings(t *testing.T) {
	tests := []struct {
		name    string
		pages   map[string]string
		want    int
		wantErr error
	}{
		{"empty cursor ends", map[string]string{"": `{"data":[{"id":"a"}],"page_info":{"end_cursor":""}}`}, 1, nil},
		{"missing page_info ends", map[string]string{"": `{"data":[{"id":"a"}]}`}, 1, nil},
		{"has_next_page false alone does not end", map[string]string{
			"":  `{"data":[{"id":"a"}],"page_info":{"end_cursor":"x","has_next_page":false}}`,
			"x": `{"data":[],"page_info":{"end_cursor":null}}`}, 1, nil},
		{"repeated cursor is an error", map[string]string{
			"":  `{"data":[{"id":"a"}],"page_info":{"end_cursor":"x"}}`,
			"x": `{"data":[{"id":"b"}],"page_info":{"end_cursor":"x"}}`}, 2, errCursorLoop},
		{"error on a later page", map[string]string{"": `{"data":[{"id":"a"}],"page_info":{"end_cursor":"gone"}}`}, 1, ErrBadRequest},
		// A payment that does not decode is yielded as an error and paging
		// goes on, so one odd payment cannot hide the rest of the listing.
		{"bad item is skipped", map[string]string{
			"":  `{"data":[{"id":"a"},{"id":"b","total":"x"},{"id":"c"}],"page_info":{"end_cursor":"y"}}`,
			"y": `{"data":[{"id":"d"}],"page_info":{"end_cursor":null}}`}, 3, money.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if body, ok := tt.pages[r.URL.Query().Get("after")]; ok {
					reply(w, http.StatusOK, body)
					return
				}
				reply(w, http.StatusBadRequest, `{"error":{"code":"invalid_cursor"}}`)
			})
			n, errs := 0, 0
			var lastErr error
			for p, err := range c.ListPayments(t.Context(), ListPaymentsParams{CompanyID: "biz_1"}) {
				if err != nil {
					errs++
					lastErr = err
					if p != nil {
						t.Errorf("error yielded with a payment")
					}
					continue
				}
				n++
			}
			if n != tt.want {
				t.Errorf("got %d payments, want %d", n, tt.want)
			}
			if tt.wantErr == nil && errs != 0 || tt.wantErr != nil && (errs != 1 || !errors.Is(lastErr, tt.wantErr)) {
				t.Errorf("errors = %d, last %v; want %v", errs, lastErr, tt.wantErr)
			}
		})
	}
}

func TestMemberships(t *testing.T) {
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/memberships/mem_2" {
			reply(w, http.StatusOK, `{"id":"mem_2","status":"canceled","user":null,"plan":{"id":"plan_2"},"product":{"id":"prod_2"}}`)
			return
		}
		reply(w, http.StatusOK, `{"data":[{"id":"mem_1","status":"active","user":{"id":"user_1","username":"alice"},
			"plan":{"id":"plan_1"},"product":{"id":"prod_1","title":"Premium"},"company":{"id":"biz_1","title":"Acme"},
			"metadata":{"experience_id":"exp_1"},"cancel_at_period_end":true,"created_at":"2025-01-01T00:00:00.000Z",
			"renewal_period_start":"2025-01-01T00:00:00.000Z","renewal_period_end":"1738368000",
			"checkout_configuration_id":"ch_9"}],"page_info":{"end_cursor":null}}`)
	})
	var got []*Membership
	for m, err := range c.ListMemberships(t.Context(), ListMembershipsParams{CompanyID: "biz_1",
		UserIDs: []string{"user_1"}, Statuses: []MembershipStatus{MembershipActive, MembershipTrialing}, ProductIDs: []string{"prod_1"}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	one, err := c.GetMembership(t.Context(), "mem_2")
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	assertRequest(t, reqs[0], http.MethodGet, "/api/v1/memberships")
	if q := reqs[0].Query; q.Get("company_id") != "biz_1" || strings.Join(q["user_ids[]"], ",") != "user_1" ||
		strings.Join(q["statuses[]"], ",") != "active,trialing" || strings.Join(q["product_ids[]"], ",") != "prod_1" || len(q) != 4 {
		t.Errorf("query = %v", q)
	}
	assertRequest(t, reqs[1], http.MethodGet, "/api/v1/memberships/mem_2")
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if len(got) != 1 {
		t.Fatalf("listed %d memberships", len(got))
	}
	m := got[0]
	if m.ID != "mem_1" || m.Status != MembershipActive || m.UserID != "user_1" || m.PlanID != "plan_1" ||
		m.ProductID != "prod_1" || m.CompanyID != "biz_1" || m.Metadata["experience_id"] != "exp_1" || !m.Valid ||
		!m.CancelAtPeriodEnd || !m.CreatedAt.Equal(t0) || !m.RenewalPeriodStart.Equal(t0) ||
		!m.RenewalPeriodEnd.Equal(time.Unix(1738368000, 0)) || m.CheckoutConfigurationID != "ch_9" {
		t.Errorf("membership = %+v", m)
	}
	if one.ID != "mem_2" || one.Status != MembershipCanceled || one.Valid || one.UserID != "" || one.PlanID != "plan_2" || one.ProductID != "prod_2" {
		t.Errorf("membership = %+v", one)
	}
}
