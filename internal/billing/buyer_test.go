package billing

import (
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// TestAnotherUsers: whose payment on a buyer's checkout counts as the
// buyer's attempt. One naming no user counts while unpaid (so a decline
// still reaches the buyer) but not once paid, since only a payment naming
// the buyer fulfils (mismatch).
func TestAnotherUsers(t *testing.T) {
	pur := ledger.Purchase{ID: "pur_1", UserID: "user_buyer"}
	for _, tt := range []struct {
		user   string
		status whop.PaymentStatus
		want   bool
	}{
		{"user_buyer", whop.PaymentPaid, false},
		{"user_buyer", whop.PaymentOpen, false},
		{"user_other", whop.PaymentPaid, true},
		{"user_other", whop.PaymentOpen, true},
		{"", whop.PaymentOpen, false},
		{"", whop.PaymentPaid, true},
	} {
		p := &whop.Payment{ID: "pay_1", UserID: tt.user, Status: tt.status}
		if got := anotherUsers(p, pur); got != tt.want {
			t.Errorf("user %q, %s: anotherUsers = %t, want %t", tt.user, tt.status, got, tt.want)
		}
		if tt.status == whop.PaymentPaid && (mismatch(p, pur, "") == reasonNotTheBuyer) != tt.want {
			t.Errorf("user %q: mismatch says %q, which disagrees on whose payment it is", tt.user, mismatch(p, pur, ""))
		}
	}
}
