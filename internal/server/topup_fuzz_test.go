package server

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/creditkit/creditkit/internal/billing"
)

// The auto top-up page's calls and forms under the fuzzer: the same two
// properties as the other routes (no 5xx; only ids of their kind and clean
// text reach billing), with auto top-up and notifications that record
// what they are handed.

type balanceBilling struct{ *recordingBilling }

func (b balanceBilling) Balance(_ context.Context, user, exp string) (int64, error) {
	b.record("call", "Balance", "user_id", user, "experience_id", exp)
	return 0, nil
}

type recordingTopUps struct{ b *recordingBilling }

func (r recordingTopUps) Settings(_ context.Context, user, exp string) (billing.AutoTopUp, error) {
	r.b.record("call", "Settings", "user_id", user, "experience_id", exp)
	return billing.AutoTopUp{}, nil
}

func (r recordingTopUps) StartSetup(_ context.Context, user, exp string) (billing.SetupCheckout, error) {
	r.b.record("call", "StartSetup", "user_id", user, "experience_id", exp)
	return billing.SetupCheckout{CheckoutID: "ch_1"}, nil
}

func (r recordingTopUps) SaveMethod(_ context.Context, user, exp, si string) (billing.AutoTopUp, error) {
	r.b.record("call", "SaveMethod", "user_id", user, "experience_id", exp, "setup_intent_id", si)
	return billing.AutoTopUp{}, nil
}

func (r recordingTopUps) SetRule(_ context.Context, user, exp string, in billing.RuleInput) (billing.AutoTopUp, error) {
	r.b.record("call", "SetRule", "user_id", user, "experience_id", exp, "package", in.PackageID)
	if in.Threshold < 1 || in.DailyLimit < 1 || in.DailyLimit > 50 {
		panic("SetRule handed an out-of-range rule")
	}
	return billing.AutoTopUp{}, nil
}

func (r recordingTopUps) RemoveRule(_ context.Context, user, exp string) (int, error) {
	r.b.record("call", "RemoveRule", "user_id", user, "experience_id", exp)
	return 0, nil
}

type recordingNotices struct{ b *recordingBilling }

func (r recordingNotices) Prefs(_ context.Context, user, exp string) (billing.NoticePrefs, error) {
	r.b.record("call", "Prefs", "user_id", user, "experience_id", exp)
	return billing.NoticePrefs{}, nil
}

func (r recordingNotices) SetPrefs(_ context.Context, user, exp string, p billing.NoticePrefs) error {
	r.b.record("call", "SetPrefs", "user_id", user, "experience_id", exp)
	if p.LowBalance && p.LowBalanceBelow < 1 {
		return billing.ErrBadLowBalance
	}
	return nil
}

func (r recordingNotices) Recent(_ context.Context, user, exp string) ([]billing.Notice, error) {
	r.b.record("call", "Recent", "user_id", user, "experience_id", exp)
	return nil, nil
}

func newTopUpFuzzRoute() *fuzzRoute {
	b := &recordingBilling{}
	return &fuzzRoute{bill: b, s: New(Deps{Settings: Settings{AppID: "app_test"}, Tokens: anyToken{}, Billing: billingOf(balanceBilling{b}),
		TopUps: recordingTopUps{b}, Notices: recordingNotices{b}})}
}

func FuzzTopUpRequests(f *testing.F) {
	seedBodies(f, `{"experience_id":"`+goodExp+`","setup_intent_id":"sint_6dWDN0kA5QW2hm"}`)
	fr := newTopUpFuzzRoute()
	f.Fuzz(func(t *testing.T, body []byte) {
		fr.serve(t, http.MethodPost, "/api/topup/setup", "", "application/json", body)
		fr.serve(t, http.MethodPost, "/api/topup/method", "", "application/json", body)
	})
}

func FuzzTopUpForms(f *testing.F) {
	for _, q := range []string{"threshold=50&package=starter&daily_limit=3", "threshold=0&package=starter&daily_limit=3",
		"threshold=99999999999999999999&package=starter&daily_limit=3", "threshold=5&package=st%00arter&daily_limit=51",
		"threshold=-1&daily_limit=1e3", "credited=on&low_balance=on&low_balance_below=%ff", "low_balance=on&low_balance_below=0"} {
		f.Add(goodExp, q)
	}
	f.Add(goodExp+"\x00", "threshold=1")
	fr := newTopUpFuzzRoute()
	f.Fuzz(func(t *testing.T, experience, form string) {
		base := "/experiences/" + url.PathEscape(experience) + "/autotopup"
		for _, p := range []string{"/rule", "/alerts", "/remove"} {
			fr.serve(t, http.MethodPost, base+p, "", "application/x-www-form-urlencoded", []byte(form))
		}
		fr.serve(t, http.MethodGet, base, form, "", nil)
	})
}

// TestTopUpFuzzSeedsReachBilling: the well-formed seeds get through.
func TestTopUpFuzzSeedsReachBilling(t *testing.T) {
	fr := newTopUpFuzzRoute()
	for _, tt := range []struct{ method, path, ctype, body, call string }{
		{"POST", "/api/topup/setup", "application/json", `{"experience_id":"` + goodExp + `"}`, "StartSetup"},
		{"POST", "/api/topup/method", "application/json", `{"experience_id":"` + goodExp + `","setup_intent_id":"sint_1"}`, "SaveMethod"},
		{"POST", "/experiences/" + goodExp + "/autotopup/rule", "application/x-www-form-urlencoded", "threshold=50&package=starter&daily_limit=3", "SetRule"},
		{"POST", "/experiences/" + goodExp + "/autotopup/alerts", "application/x-www-form-urlencoded", "credited=on", "SetPrefs"},
		{"POST", "/experiences/" + goodExp + "/autotopup/remove", "application/x-www-form-urlencoded", "", "RemoveRule"},
		{"GET", "/experiences/" + goodExp + "/autotopup", "", "", "Settings"},
	} {
		_, args := fr.serve(t, tt.method, tt.path, "", tt.ctype, []byte(tt.body))
		found := false
		for _, a := range args {
			found = found || (a.name == "call" && a.value == tt.call)
		}
		if !found {
			t.Errorf("%s %s: %s was not called (%v)", tt.method, tt.path, tt.call, args)
		}
	}
}
