package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/creditkit/creditkit/internal/whop"
)

// The fuzz targets below send arbitrary bodies, path ids, queries and forms
// through the real router and handlers to a billing that only records what
// it is handed. Two properties must hold for every input: no answer is a
// 5xx (this billing never fails, so one would be a panic or a bug of the
// edge), and whatever reaches billing is text Postgres and Whop can take:
// ids of their kind, and no NUL, control character or invalid UTF-8 in
// anything. The oracles are written apart from input.go, with regexps.

var (
	oracleID = map[string]*regexp.Regexp{
		"experience_id": regexp.MustCompile(`^exp_[0-9A-Za-z]{1,68}$`),
		"company_id":    regexp.MustCompile(`^biz_[0-9A-Za-z]{1,68}$`),
		"payment_id":    regexp.MustCompile(`^pay_[0-9A-Za-z]{1,68}$`),
		"purchase_id":   regexp.MustCompile(`^pur_[0-9A-Za-z]{1,68}$`),
		"user_id":       regexp.MustCompile(`^user_[0-9A-Za-z]{1,67}$`),
		"before":        regexp.MustCompile(`^(0|[1-9][0-9]{0,18})$`), // an activity page's entry id
	}
	// oracleText: printable, no C0/C1 controls, DEL, BOM or bidi controls.
	oracleText = regexp.MustCompile(`^[^\x00-\x1f\x7f-\x9f\x{feff}\x{202a}-\x{202e}\x{2066}-\x{2069}]{0,255}$`)
)

type fuzzRoute struct {
	s    *Server
	bill *recordingBilling
}

func newFuzzRoute(testing.TB) *fuzzRoute {
	b := &recordingBilling{}
	return &fuzzRoute{bill: b, s: New(Deps{Settings: Settings{AppID: "app_test"}, Tokens: anyToken{}, Billing: billingOf(b)})}
}

// serve sends one request, checks both properties, and returns the status
// and what billing was handed.
func (fr *fuzzRoute) serve(t *testing.T, method, path, rawQuery, contentType string, body []byte) (int, []recorded) {
	u := url.URL{Path: path, RawQuery: rawQuery}
	req, err := http.NewRequest(method, "http://app.test"+u.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil // not a request a client could send
	}
	req.Header.Set(whop.HeaderUserToken, "user_fuzz1")
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	fr.s.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %q: %d %s", method, u.RequestURI(), rec.Code, rec.Body.String())
	}
	args := fr.bill.take()
	for _, a := range args {
		if re, ok := oracleID[a.name]; ok && !re.MatchString(a.value) {
			t.Fatalf("%s %q: billing got %s %q", method, u.RequestURI(), a.name, a.value)
		}
		if !utf8.ValidString(a.value) || !oracleText.MatchString(a.value) {
			t.Fatalf("%s %q: billing got %s %q", method, u.RequestURI(), a.name, a.value)
		}
	}
	return rec.Code, args
}

// TestFuzzRoutesReachBilling: the fuzz targets' well-formed seeds do get
// through to billing (a harness that refused everything would prove
// nothing), and their junk neighbours do not.
func TestFuzzRoutesReachBilling(t *testing.T) {
	fr := newFuzzRoute(nil)
	for _, tt := range []struct {
		method, path, query, ctype, body string
		status                           int
		reaches                          bool
	}{
		{"POST", "/api/charge", "", "application/json", `{"experience_id":"` + goodExp + `","package":"starter"}`, 200, true},
		{"POST", "/api/charge", "", "application/json", `{"experience_id":"` + goodExp + `","package":"star\u0000ter"}`, 400, false},
		{"POST", "/api/spend", "", "application/json", `{"experience_id":"` + goodExp + `","item":"sticker","idempotency_key":"k"}`, 200, true},
		{"POST", "/api/purchases/" + goodPur + "/confirm", "", "application/json", `{"receipt_id":"` + goodPay + `"}`, 200, true},
		{"POST", "/api/purchases/" + goodPur + "/confirm", "", "application/json", `{"receipt_id":"` + goodPay + ` "}`, 400, false},
		{"POST", "/api/purchases/" + goodPur + "/outcome", "", "application/json", `{}`, 200, true},
		{"POST", "/api/purchases/" + goodPur + "\x00/outcome", "", "application/json", `{}`, 400, false},
		{"GET", "/experiences/" + goodExp + "/activity", "before=25", "", "", 200, true},
		{"GET", "/experiences/" + goodExp + "/activity", "before=1e3", "", "", 400, false},
		{"GET", "/api/premium/status", "experience_id=" + goodExp, "", "", 200, true},
		{"GET", "/api/premium/status", "experience_id=" + goodCompany, "", "", 400, false},
		{"POST", "/api/premium/checkout", "", "application/json", `{"experience_id":"` + goodExp + `"}`, 200, true},
		{"GET", "/api/payments/" + goodPay, "company_id=" + goodCompany, "", "", 404, true},
		{"POST", "/api/payouts", "", "application/json", `{"company_id":"` + goodCompany + `","recipient":"alice","amount":"1","idempotency_key":"k"}`, 200, true},
		{"POST", "/dashboard/" + goodCompany + "/payouts", "", "application/x-www-form-urlencoded", "recipient=alice&amount=1&idempotency_key=k", 303, true},
		{"POST", "/dashboard/" + goodCompany + "/payments/" + goodPay + "/refund", "", "application/x-www-form-urlencoded", "idempotency_key=k", 303, true},
		{"POST", "/api/grants", "", "application/json", `{"company_id":"` + goodCompany + `","experience_id":"` + goodExp + `","member":"alice","credits":5,"reason":"thanks","idempotency_key":"k"}`, 201, true},
		{"POST", "/api/grants", "", "application/json", `{"company_id":"` + goodCompany + `","experience_id":"` + goodExp + `","member":"alice","credits":"5","reason":"thanks\u202e","idempotency_key":"k"}`, 400, false},
		{"POST", "/api/grants", "", "application/json", `{"company_id":"` + goodCompany + `","experience_id":"` + goodExp + `","member":"alice","credits":1e2,"reason":"thanks","idempotency_key":"k"}`, 400, false},
		{"POST", "/dashboard/" + goodCompany + "/grants", "", "application/x-www-form-urlencoded", "member=alice&experience_id=" + goodExp + "&credits=5&reason=thanks&expires_at=2030-01-01&idempotency_key=k", 303, true},
		{"GET", "/dashboard/" + goodCompany + "/export.csv", "from=2026-01-01&to=2026-01-31", "", "", 200, true},
		{"GET", "/dashboard/" + goodCompany + "/export.csv", "from=2026-01-01%00", "", "", 400, false},
		{"GET", "/experiences/" + goodExp + "/activity.csv", "", "", "", 200, true},
	} {
		status, args := fr.serve(t, tt.method, tt.path, tt.query, tt.ctype, []byte(tt.body))
		got := false // a use case was called, not only an access check
		for _, a := range args {
			got = got || (a.name == "call" && a.value != "ExperienceAccess" && a.value != "CompanyAdmin")
		}
		if status != tt.status || got != tt.reaches {
			t.Errorf("%s %s %s: %d, reached billing %t (%v); want %d, %t", tt.method, tt.path, tt.body, status, got, args, tt.status, tt.reaches)
		}
	}
}

// seeds adds the inputs the outside check used, in the shapes of one route.
func seedBodies(f *testing.F, good string) {
	f.Add([]byte(good))
	f.Add([]byte(strings.Replace(good, `",`, `\u0000",`, 1)))
	f.Add([]byte(strings.Replace(good, `",`, "\xff\xfe\",", 1)))
	f.Add([]byte(strings.Replace(good, `",`, `\ud800",`, 1)))
	f.Add([]byte(strings.Replace(good, `",`, `\ufeff",`, 1)))
	f.Add([]byte(strings.Replace(good, `",`, ` ' OR 1=1--",`, 1)))
	f.Add([]byte("\ufeff" + good))
	f.Add([]byte(`{"amount":1e2}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{})
}

const (
	goodExp     = "exp_6dWDN0kA5QW2hm"
	goodCompany = "biz_6dWDN0kA5QW2hm"
	goodPay     = "pay_6dWDN0kA5QW2hm"
	goodPur     = "pur_6dWDN0kA5QW2hmAbCd"
)

func FuzzChargeRequest(f *testing.F) {
	seedBodies(f, `{"experience_id":"`+goodExp+`","package":"starter","idempotency_key":"k-1"}`)
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fr.serve(t, http.MethodPost, "/api/charge", "", "application/json", body)
	})
}

func FuzzSpendRequest(f *testing.F) {
	seedBodies(f, `{"experience_id":"`+goodExp+`","item":"sticker","idempotency_key":"k-1"}`)
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fr.serve(t, http.MethodPost, "/api/spend", "", "application/json", body)
	})
}

func FuzzConfirmRequest(f *testing.F) {
	for _, id := range []string{goodPur, goodPur + "\x00", goodPur + " ", "pur_\xff", ""} {
		f.Add(id, []byte(`{"receipt_id":"`+goodPay+`"}`))
		f.Add(id, []byte(`{"receipt_id":"`+goodPay+`\u0000"}`))
	}
	f.Add(goodPur, []byte(`{"receipt_id":"`+goodPay+"\xef\xbb\xbf"+`"}`))
	f.Add(goodPur, []byte(`{"receipt_id":"`+goodPay+`';DROP TABLE purchases;--"}`))
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, purchase string, body []byte) {
		fr.serve(t, http.MethodPost, "/api/purchases/"+purchase+"/confirm", "", "application/json", body)
		// After the purchase modal closes, the page asks what happened.
		fr.serve(t, http.MethodPost, "/api/purchases/"+purchase+"/outcome", "", "application/json", body)
	})
}

// FuzzActivityPage covers the member's activity: the experience in its
// path and the ?before= entry id its "older" link carries.
func FuzzActivityPage(f *testing.F) {
	for _, q := range []string{"", "before=25", "before=0", "before=-1", "before=1e3", "before=%00", "before=99999999999999999999", "before=25&before=26"} {
		f.Add(goodExp, q)
	}
	f.Add(goodExp+"\x00", "before=1")
	f.Add(" ", "")
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, experience, query string) {
		fr.serve(t, http.MethodGet, "/experiences/"+experience+"/activity", query, "", nil)
	})
}

func FuzzPremiumRequests(f *testing.F) {
	for _, q := range []string{"experience_id=" + goodExp, "experience_id=" + goodCompany, "experience_id=exp_1%00", "experience_id=%ff", "x=1&experience_id=exp_1&experience_id=exp_2"} {
		f.Add(q, []byte(`{"experience_id":"`+goodExp+`"}`))
	}
	f.Add("", []byte(`{"experience_id":"`+goodExp+`\u0000"}`))
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		fr.serve(t, http.MethodGet, "/api/premium/status", query, "", nil)
		fr.serve(t, http.MethodPost, "/api/premium/checkout", "", "application/json", body)
	})
}

func FuzzPaymentLookup(f *testing.F) {
	for _, id := range []string{goodPay, goodPay + "\x00", " ", "1e400", "pay_\xef\xbb\xbf"} {
		f.Add(id, "company_id="+goodCompany)
		f.Add(id, "company_id=biz_1%00")
	}
	f.Add(goodPay, "company_id="+goodExp)
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, payment, query string) {
		fr.serve(t, http.MethodGet, "/api/payments/"+payment, query, "", nil)
		fr.serve(t, http.MethodGet, "/dashboard/"+goodCompany, "payment="+url.QueryEscape(payment)+"&"+query, "", nil)
	})
}

func FuzzPayoutRequest(f *testing.F) {
	seedBodies(f, `{"company_id":"`+goodCompany+`","recipient":"alice","amount":"12.50","notes":"thanks","idempotency_key":"k-1"}`)
	f.Add([]byte(`{"company_id":"` + goodCompany + `","recipient":"alice","amount":1e2,"idempotency_key":"k-1"}`))
	f.Add([]byte(`{"company_id":"` + goodCompany + `","recipient":"alice","amount":"1e2","notes":"\u202eevil","idempotency_key":"k-1"}`))
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fr.serve(t, http.MethodPost, "/api/payouts", "", "application/json", body)
	})
}

func FuzzGrantRequest(f *testing.F) {
	seedBodies(f, `{"company_id":"`+goodCompany+`","experience_id":"`+goodExp+`","member":"@alice","credits":50,"reason":"thanks","expires_at":"2030-01-01","idempotency_key":"k-1"}`)
	f.Add([]byte(`{"company_id":"` + goodCompany + `","experience_id":"` + goodExp + `","member":"alice","credits":"5\u0000","reason":"x","idempotency_key":"k"}`))
	f.Add([]byte(`{"company_id":"` + goodCompany + `","experience_id":"` + goodExp + `","member":"alice","credits":5,"reason":"x","expires_at":"2030-01-01T00:00:00\u202eZ","idempotency_key":"k"}`))
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fr.serve(t, http.MethodPost, "/api/grants", "", "application/json", body)
	})
}

// FuzzExports covers the exports' paths and query: the period's dates and
// the ids they are for.
func FuzzExports(f *testing.F) {
	f.Add(goodCompany, goodExp, "from=2026-01-01&to=2026-01-31")
	f.Add(goodCompany+"%00", goodExp+" ", "from=2026-01-01%00&to=x")
	f.Add(goodCompany, "exp_%EF%BB%BF", "from=%ff")
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, company, exp, query string) {
		fr.serve(t, http.MethodGet, "/dashboard/"+company+"/export.csv", query, "", nil)
		fr.serve(t, http.MethodGet, "/experiences/"+exp+"/activity.csv", query, "", nil)
	})
}

// FuzzDashboardForms covers the payout, refund and grant forms:
// form-encoded bodies, whose values may hold any bytes, and the ids in
// their paths.
func FuzzDashboardForms(f *testing.F) {
	f.Add(goodCompany, goodPay, "recipient=alice&amount=12.50&notes=thanks&idempotency_key=form-1")
	f.Add(goodCompany, goodPay, "recipient=alice%00&amount=1e2&notes=%ff&idempotency_key=form-1%0a")
	f.Add(goodCompany+"%00", goodPay+" ", "amount=2.50&idempotency_key=r-1")
	f.Add(goodCompany, "pay_%EF%BB%BF", "amount=%00&idempotency_key=r-1")
	f.Add(goodCompany, goodPay, "member=alice&experience_id="+goodExp+"&credits=5&reason=%E2%80%AEx&expires_at=2030-01-01&idempotency_key=g-1")
	fr := newFuzzRoute(f)
	f.Fuzz(func(t *testing.T, company, payment, form string) {
		fr.serve(t, http.MethodPost, "/dashboard/"+company+"/payouts", "", "application/x-www-form-urlencoded", []byte(form))
		fr.serve(t, http.MethodPost, "/dashboard/"+company+"/payments/"+payment+"/refund", "", "application/x-www-form-urlencoded", []byte(form))
		fr.serve(t, http.MethodPost, "/dashboard/"+company+"/grants", "", "application/x-www-form-urlencoded", []byte(form))
	})
}
