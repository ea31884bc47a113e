package server

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestKinds: each kind of input against what it must take and refuse.
func TestKinds(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tt := range []struct {
		kind    string
		k       kind
		takes   []string
		refuses []string
	}{
		{"experience", kindExperience,
			[]string{"exp_6dWDN0kA5QW2hm", "exp_1"},
			[]string{"biz_6dWDN0kA5QW2hm", "exp_", "exp_1\x00", "exp_1 ", "exp_1%00", "exp_1'--", "EXP_1", "exp_1\uFEFF", "exp_1/x"}},
		{"company", kindCompany,
			[]string{"biz_6dWDN0kA5QW2hm"},
			[]string{"exp_6dWDN0kA5QW2hm", "biz_ 1", "biz_1\n"}},
		{"payment", kindPayment,
			[]string{"pay_6dWDN0kA5QW2hm"},
			[]string{"pay_6dWDN0kA5QW2hm\x00", "pay_6dWDN0kA5QW2hm\x01\x1f", "pay_6dWDN0kA5QW2hm ", "pay_6dWDN0kA5QW2hm' OR 1=1--",
				"\uFEFFpay_6dWDN0kA5QW2hm", "pay_6dWDN0kA5QW2hm\u200B", "pur_6dWDN0kA5QW2hm", "pay_" + long, "1e400", " "}},
		{"purchase", kindPurchase,
			[]string{"pur_6dWDN0kA5QW2hmAbCd"},
			[]string{"pay_6dWDN0kA5QW2hm", "pur_x\x00", "pur_x y"}},
		{"slug", kindSlug,
			[]string{"sticker", "starter", "pro-2", "a_b", "Gold.1"},
			[]string{"sticker\x00", "stick er", "sticker\n", "stícker", "sticker;", strings.Repeat("s", 65)}},
		{"key", kindKey,
			[]string{"k", "lost answer", "form-0123abcd", "9b2f6a0e-2c1d-4d3a-8f5e-0a1b2c3d4e5f", strings.Repeat("k", 255)},
			[]string{"k\x00", "k\n", "k\t", "k\x7f", "kĸ", "k\xff", strings.Repeat("k", 256)}},
		{"recipient", kindRecipient,
			[]string{"alice", "@alice", " alice ", "user_6jwBLroz2fSAB", "jo.doe-1_x"},
			[]string{"alice\x00", "al ice", "@", "user_1\x00", "user_", "al\u202Eice", strings.Repeat("a", 65), " "}},
		{"amount", kindAmount,
			[]string{"12.50", "$12.50", "1e2", "ten", "-5"},
			[]string{"1\x00", "12.50\n", "€12", strings.Repeat("9", 41)}},
		{"notes", kindText(50),
			[]string{"thanks", "merci beaucoup ✨", "👩‍💻 café", strings.Repeat("é", 50)},
			[]string{"hi\x00", "hi\n", "hi\t", "\u202Eevil", "a\u2066b", "\uFEFFhi", "hi\u0085", "hi\xff", strings.Repeat("é", 51)}},
	} {
		for _, s := range tt.takes {
			if !tt.k.ok(s) {
				t.Errorf("%s refuses %q", tt.kind, s)
			}
		}
		for _, s := range tt.refuses {
			if tt.k.ok(s) {
				t.Errorf("%s takes %q", tt.kind, s)
			}
		}
	}
}

// TestCheckFieldsMessages: a missing required field and a malformed one
// are answered differently, each naming the field.
func TestCheckFieldsMessages(t *testing.T) {
	for _, tt := range []struct {
		f             field
		code, message string
	}{
		{field{"receipt_id", "", true, kindPayment}, "missing_field", "receipt_id is required."},
		{field{"receipt_id", " \t", true, kindPayment}, "missing_field", "receipt_id is required."},
		{field{"receipt_id", "pay_1\x00", true, kindPayment}, "invalid_receipt_id",
			"receipt_id must be a Whop payment id, the receipt id the purchase returned (pay_ followed by letters and digits)."},
		{field{"idempotency_key", " ", false, kindKey}, "", ""},
		{field{"recipient", " ", false, kindRecipient}, "invalid_recipient",
			"recipient must be a Whop username (letters, digits, _, - and .) or a user id (user_…)."},
		{field{"notes", "", false, kindText(50)}, "", ""},
	} {
		err := checkFields(tt.f)
		he, _ := err.(*httpError)
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%s %q: %v, want accepted", tt.f.name, tt.f.value, err)
		case tt.code != "" && (he == nil || he.status != http.StatusBadRequest || he.code != tt.code || he.message != tt.message):
			t.Errorf("%s %q: %v, want 400 %s %q", tt.f.name, tt.f.value, err, tt.code, tt.message)
		}
	}
}

// TestEveryPathParameterHasAKind: checkPath refuses a route parameter it
// has no rule for, so a new route must come with one; this finds it first.
func TestEveryPathParameterHasAKind(t *testing.T) {
	s := newTestServer(t, nil)
	param := regexp.MustCompile(`\{([^}:]+)`)
	seen := 0
	err := chi.Walk(s.routes().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		for _, m := range param.FindAllStringSubmatch(route, -1) {
			seen++
			if _, ok := pathKinds[m[1]]; !ok {
				t.Errorf("%s %s: no kind for {%s}", method, route, m[1])
			}
		}
		return nil
	})
	if err != nil || seen < 8 {
		t.Fatalf("walked %d parameters: %v", seen, err)
	}
}
