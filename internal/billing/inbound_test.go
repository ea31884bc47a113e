package billing

import (
	"errors"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

func goodPayment() *whop.Payment {
	return &whop.Payment{ID: "pay_6dWDN0kA5QW2hm", Status: whop.PaymentPaid, Substatus: whop.SubstatusSucceeded,
		Currency: money.USD, Total: 499, UserID: "user_1", CompanyID: "biz_1", MembershipID: "mem_1", PlanID: "plan_1",
		ProductID: "prod_1", CheckoutConfigurationID: "ch_1", FailureMessage: "Your card was declined.\nTry another.",
		Metadata: map[string]string{MetaPurchaseID: "pur_1", "note": "anything\x00 else is not read"}}
}

// TestCheckPayment: each field the app stores or sends back to Whop, made
// unusable one at a time, refuses the payment with a reason naming it.
func TestCheckPayment(t *testing.T) {
	if err := checkPayment(goodPayment()); err != nil {
		t.Fatalf("good payment refused: %v", err)
	}
	for _, tt := range []struct {
		change func(*whop.Payment)
		reason string
	}{
		{func(p *whop.Payment) { p.ID = " " }, `payment id " " is not a Whop payment id`},
		{func(p *whop.Payment) { p.ID = "1e400" }, `payment id "1e400" is not a Whop payment id`},
		{func(p *whop.Payment) { p.ID = "" }, `payment id "" is not a Whop payment id`},
		{func(p *whop.Payment) { p.ID = "rf_1" }, `payment id "rf_1"`},
		{func(p *whop.Payment) { p.Metadata[MetaPurchaseID] = "pur_1\x00" }, `metadata.creditkit_purchase_id "pur_1\x00" is not a Creditkit purchase id`},
		{func(p *whop.Payment) { p.Metadata[MetaPurchaseID] = "pay_1" }, `metadata.creditkit_purchase_id "pay_1"`},
		{func(p *whop.Payment) { p.Status = "paid\x00" }, `payment status "paid\x00"`},
		{func(p *whop.Payment) { p.Substatus = "dispute lost" }, `payment substatus "dispute lost"`},
		{func(p *whop.Payment) { p.UserID = "user_1 " }, `payment user "user_1 "`},
		{func(p *whop.Payment) { p.CompanyID = "exp_1" }, `payment company "exp_1"`},
		{func(p *whop.Payment) { p.MembershipID = "mem_\xff" }, `payment membership "mem_\xff"`},
		{func(p *whop.Payment) { p.PlanID = "plan 1" }, `payment plan "plan 1"`},
		{func(p *whop.Payment) { p.ProductID = "\u202Eprod_1" }, `product "\u202eprod_1"`},
		{func(p *whop.Payment) { p.CheckoutConfigurationID = "ch_1;" }, `payment checkout "ch_1;"`},
		{func(p *whop.Payment) { p.FailureMessage = "declined\x00" }, `payment failure message "declined\x00" is not plain text of at most 2000 bytes`},
		{func(p *whop.Payment) { p.FailureMessage = strings.Repeat("x", maxWhopText+1) }, `payment failure message "xxx`},
	} {
		p := goodPayment()
		tt.change(p)
		var bad *MalformedError
		if err := checkPayment(p); !errors.As(err, &bad) || !strings.Contains(bad.Reason, tt.reason) || !printableASCII(bad.Reason) {
			t.Errorf("%+v: %v, want a refusal with %q", p, err, tt.reason)
		}
	}
	// What the app does not read is not judged, and what is absent passes.
	p := goodPayment()
	p.UserID, p.CompanyID, p.MembershipID, p.PlanID, p.ProductID, p.CheckoutConfigurationID, p.Metadata = "", "", "", "", "", "", nil
	p.Status, p.Substatus, p.FailureMessage, p.CardBrand = "", "", "", "vi\x00sa"
	if err := checkPayment(p); err != nil {
		t.Fatalf("payment with only an id refused: %v", err)
	}
}

func TestCheckClaim(t *testing.T) {
	for _, tt := range []struct {
		kind, id, payment, status, reason string
		want                              string // "" accepted
	}{
		{"refund", "rf_1", "pay_1", "succeeded", "", ""},
		{"dispute", "dspt_1", "pay_1", "needs_response", "Product not received.\n", ""},
		{"refund", "pay_1", "", "", "", `refund data is a payment ("pay_1"), not a refund`},
		{"dispute", "pay_1", "pay_1", "paid", "", `dispute data is a payment ("pay_1"), not a dispute`},
		{"refund", "", "pay_1", "", "", `refund id "" is not a Whop id`},
		{"refund", "rf 1", "pay_1", "", "", `refund id "rf 1" is not a Whop id`},
		{"refund", "rf_1", "", "", "", "refund rf_1 names no payment"},
		{"refund", "rf_1", "pay_1\x00", "", "", `refund rf_1 names payment "pay_1\x00", which is not a Whop payment id`},
		{"refund", "rf_1", "pay_1", "done!", "", `refund status "done!"`},
		{"dispute", "dspt_1", "pay_1", "lost", "fraud\x00", `dispute reason "fraud\x00" is not plain text of at most 2000 bytes`},
	} {
		err := checkClaim(tt.kind, tt.id, tt.payment, tt.status, tt.reason)
		var bad *MalformedError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %q: %v, want accepted", tt.kind, tt.id, err)
		case tt.want != "" && (!errors.As(err, &bad) || !strings.Contains(bad.Reason, tt.want) || !printableASCII(bad.Reason)):
			t.Errorf("%s %q: %v, want %q", tt.kind, tt.id, err, tt.want)
		}
	}
}

func TestCheckMembershipAndEnvelope(t *testing.T) {
	good := whop.Membership{ID: "mem_1", UserID: "user_1", PlanID: "plan_1", ProductID: "prod_1", Status: "canceling"}
	if err := checkMembership(&good); err != nil {
		t.Fatalf("good membership refused: %v", err)
	}
	for _, change := range []func(*whop.Membership){
		func(m *whop.Membership) { m.ID = "" },
		func(m *whop.Membership) { m.ID = "pay_1" },
		func(m *whop.Membership) { m.UserID = "" },
		func(m *whop.Membership) { m.UserID = "user_1\x00" },
		func(m *whop.Membership) { m.PlanID = "plan_1 " },
		func(m *whop.Membership) { m.Status = "Active" },
		func(m *whop.Membership) { m.Status = whop.MembershipStatus(strings.Repeat("a", 33)) },
	} {
		m := good
		change(&m)
		if err := checkMembership(&m); err == nil {
			t.Errorf("%+v accepted", m)
		}
	}
	for _, ev := range []whop.Event{
		{Type: "payment.succeeded\x00"}, {Type: ""}, {Type: strings.Repeat("a", 65)},
		{Type: "payment.succeeded", CompanyID: "biz_1 OR 1=1"},
	} {
		if err := checkEnvelope(&ev); err == nil {
			t.Errorf("envelope %+v accepted", ev)
		}
	}
	if err := checkEnvelope(&whop.Event{Type: "app_membership.went_valid", CompanyID: "biz_1"}); err != nil {
		t.Errorf("good envelope refused: %v", err)
	}
}

func TestDeliveryKey(t *testing.T) {
	if key, problem := deliveryKey("msg_2Ka9x"); key != "msg_2Ka9x" || problem != "" {
		t.Errorf("plain id = %q, %q", key, problem)
	}
	for _, id := range []string{"", "msg 1", "msg_\xff", "msg_\t", strings.Repeat("m", 256)} {
		key, problem := deliveryKey(id)
		again, _ := deliveryKey(id)
		if !strings.HasPrefix(key, "unprintable_") || len(key) != len("unprintable_")+32 || key != again || problem == "" || !printableASCII(problem) {
			t.Errorf("deliveryKey(%q) = %q, %q", id, key, problem)
		}
	}
	if a, _ := deliveryKey("msg 1"); a == func() string { b, _ := deliveryKey("msg 2"); return b }() {
		t.Error("two ids share one key")
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text: ok": "plain text: ok",
		"nul\x00":        `nul\x00`,
		"bad\xffbyte":    `bad\xffbyte`,
		"bidi\u202e":     `bidi\u202e`,
		"café":           `caf\u00e9`,
	} {
		if got := escape(in, 100); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escape(strings.Repeat("\x00", 10), 9); got != `\x00\x00\` {
		t.Errorf("escape clips to %q, want 9 bytes", got)
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
