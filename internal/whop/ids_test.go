package whop

import (
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	for _, tt := range []struct {
		id, prefix string
		want       bool
	}{
		{"pay_6dWDN0kA5QW2hm", PrefixPayment, true},
		{"pay_1D7SDQTMVeaufA", PrefixPayment, true},
		{"user_6jwBLroz2fSAB", PrefixUser, true},
		{"pay_x", PrefixPayment, true},
		{"pay_" + strings.Repeat("a", MaxIDLen-4), PrefixPayment, true},
		{"pay_" + strings.Repeat("a", MaxIDLen-3), PrefixPayment, false},
		{"pay_", PrefixPayment, false},
		{"", PrefixPayment, false},
		{"biz_6dWDN0kA5QW2hm", PrefixPayment, false},
		{"PAY_6dWDN0kA5QW2hm", PrefixPayment, false},
		{"pay_6dWDN0kA5QW2hm\x00", PrefixPayment, false},
		{"pay_6dWDN0kA5QW2hm ", PrefixPayment, false},
		{" pay_6dWDN0kA5QW2hm", PrefixPayment, false},
		{"pay_6dWDN0kA5QW2hm\t", PrefixPayment, false},
		{"pay_6dWDN0kA5QW2hm\uFEFF", PrefixPayment, false},
		{"pay_6dWDN0kA5QW2hm' OR '1'='1", PrefixPayment, false},
		{"pay_6dWDN0kA5QW2hm;--", PrefixPayment, false},
		{"pay_6dW-N0kA5QW2hm", PrefixPayment, false},
		{"pay_6dW_N0kA5QW2hm", PrefixPayment, false},
		{"pay_6dWDN0kA5QW2hé", PrefixPayment, false},
		{"pay_\xff", PrefixPayment, false},
	} {
		if got := ValidID(tt.id, tt.prefix); got != tt.want {
			t.Errorf("ValidID(%q, %q) = %t, want %t", tt.id, tt.prefix, got, tt.want)
		}
	}
}

func TestLooksLikeID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"rf_6dWDN0kA5QW2hm", true},
		{"dspt_1", true},
		{"checkout_1", true},
		{"pay_1", true},
		{"_1", false},
		{"rf_", false},
		{"rf", false},
		{"Rf_1", false},
		{"r1_1", false},
		{"toolongprefix_1", false},
		{"rf_1 ", false},
		{"rf_1\x00", false},
		{"rf_1_2", false},
		{"1e400", false},
		{" ", false},
		{"", false},
	} {
		if got := LooksLikeID(tt.id); got != tt.want {
			t.Errorf("LooksLikeID(%q) = %t, want %t", tt.id, got, tt.want)
		}
	}
}
