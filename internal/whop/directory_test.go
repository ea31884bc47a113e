package whop

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
)

func TestCheckAccess(t *testing.T) {
	tests := []struct {
		body string
		want Access
	}{
		{`{"has_access":true,"access_level":"admin"}`, Access{true, AccessAdmin}},
		{`{"has_access":true,"access_level":"customer"}`, Access{true, AccessCustomer}},
		{`{"has_access":false,"access_level":"no_access"}`, Access{false, AccessNone}},
		{`{"has_access":false}`, Access{false, AccessNone}},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			c, f := setup(t, replyJSON(tt.body))
			got, err := c.CheckAccess(t.Context(), "user_1", "exp_1")
			if err != nil {
				t.Fatal(err)
			}
			assertRequest(t, only(t, f), http.MethodGet, "/api/v1/users/user_1/access/exp_1")
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestGetUserExperienceCompany(t *testing.T) {
	routes := map[string]string{
		"/api/v1/users/alice": `{"id":"user_1","username":"alice","name":"Alice A","email":"a@example.com","profile_picture":{"url":"x"}}`,
		"/api/v1/experiences/exp_1": `{"id":"exp_1","name":"Credits","company":{"id":"biz_1","title":"Acme","route":"acme"},"app":{"id":"app_1"},
			"products":[{"id":"prod_1","title":"Acme Community","route":"acme-community"},{"id":"prod_2","title":"Acme Pro","route":"acme-pro"}]}`,
		"/api/v1/companies/biz_1": `{"id":"biz_1","title":"Acme","route":"acme","verified":true}`,
	}
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if body, ok := routes[r.URL.Path]; ok {
			reply(w, http.StatusOK, body)
			return
		}
		reply(w, http.StatusNotFound, `{"error":{"code":"not_found","message":"nope"}}`)
	})
	u, err := c.GetUser(t.Context(), "alice")
	if err != nil || *u != (User{ID: "user_1", Username: "alice", Name: "Alice A", Email: "a@example.com"}) {
		t.Errorf("GetUser = %+v, %v", u, err)
	}
	e, err := c.GetExperience(t.Context(), "exp_1")
	if err != nil || !reflect.DeepEqual(*e, Experience{ID: "exp_1", Name: "Credits", CompanyID: "biz_1", CompanyTitle: "Acme",
		CompanyRoute: "acme", Products: []Product{{ID: "prod_1", Title: "Acme Community", Route: "acme-community"}, {ID: "prod_2", Title: "Acme Pro", Route: "acme-pro"}}}) {
		t.Errorf("GetExperience = %+v, %v", e, err)
	}
	co, err := c.GetCompany(t.Context(), "biz_1")
	if err != nil || *co != (Company{ID: "biz_1", Title: "Acme", Route: "acme"}) {
		t.Errorf("GetCompany = %+v, %v", co, err)
	}
	if _, err := c.GetCompany(t.Context(), "biz_missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing company: err = %v, want ErrNotFound", err)
	}
	reqs := f.requests()
	for i, path := range []string{"/api/v1/users/alice", "/api/v1/experiences/exp_1", "/api/v1/companies/biz_1", "/api/v1/companies/biz_missing"} {
		assertRequest(t, reqs[i], http.MethodGet, path)
	}
}

func TestIDsAreEscapedAndChecked(t *testing.T) {
	c, f := setup(t, replyJSON(`{"id":"user_x"}`))
	if _, err := c.GetUser(t.Context(), "we/ird name?"); err != nil {
		t.Fatal(err)
	}
	if r := only(t, f); r.Raw != "/api/v1/users/we%2Fird%20name%3F" {
		t.Errorf("escaped path = %q", r.Raw)
	}
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetPayment(t.Context(), id); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("GetPayment(%q): err = %v", id, err)
		}
		if _, err := c.CheckAccess(t.Context(), id, "biz_1"); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("CheckAccess(%q): err = %v", id, err)
		}
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("invalid ids sent requests: %d", n)
	}
}
