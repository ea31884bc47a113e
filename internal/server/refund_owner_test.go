package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOnlyTheOwnersAdminsRefund: a creator's admin sees a sale made in its
// experience but cannot refund it (the money was received by the owner's
// company, and the creator would keep its share): no Refund button, and
// 403 on the confirmation page and on the refund itself, with nothing
// refunded at Whop. The owner's admin refunds the same payment.
func TestOnlyTheOwnersAdminsRefund(t *testing.T) {
	a := setup(t, withShare(1000))
	creator, owner := a.env.Seed.Creator.ID, a.env.Seed.Owner.ID
	user := a.member(0)
	_, pay := a.buyIn(a.experience(), user, "starter")
	a.drain() // the creator is paid its share

	_, body := a.get("/dashboard/"+creator+"?payment="+pay, a.env.Seed.Admin.ID)
	p := parsePage(t, body)
	if !p.has("payment") || p.has("refund-start") ||
		p.text("refund-owner-only") != "Refunds are made by the app owner's admins: the owner's company received this payment." {
		t.Fatalf("creator's look-up: payment %t, refund button %t, note %q", p.has("payment"), p.has("refund-start"), p.text("refund-owner-only"))
	}
	code, out, raw := a.call("GET", "/api/payments/"+pay+"?company_id="+creator, a.env.Seed.Admin.ID, nil)
	if code != 200 || out["can_refund"] != false {
		t.Fatalf("creator's JSON look-up: %d %s", code, raw)
	}

	confirmURL := "/dashboard/" + creator + "/payments/" + pay + "/refund"
	res, body := a.get(confirmURL, a.env.Seed.Admin.ID)
	if p := parsePage(t, body); res.StatusCode != http.StatusForbidden || p.has("refund-form") ||
		p.text("error-message") != "Only the app owner's admins can refund payments: the owner's company received the money." {
		t.Fatalf("creator's confirmation page: %d %q", res.StatusCode, p.text("error-message"))
	}
	for _, form := range []url.Values{{}, {"amount": {"1.00"}}} {
		status, loc, body := a.form(confirmURL, a.env.Seed.Admin.ID, form)
		if status != http.StatusForbidden || loc != "" || !strings.Contains(body, "Only the app owner&#39;s admins can refund") {
			t.Fatalf("creator's refund %v: %d %q", form, status, loc)
		}
	}
	a.settle()
	if pm, err := a.whop.GetPayment(a.ctx, pay); err != nil || pm.RefundedAmount != 0 || pm.IsRefunded() {
		t.Fatalf("the payment after the creator's attempts: %+v, %v", pm, err)
	}
	if b := a.balance(user); b != 100 {
		t.Fatalf("balance = %d, want 100: nothing refunded", b)
	}

	// The owner's admin sees the button and refunds.
	ownerConfirm := "/dashboard/" + owner + "/payments/" + pay + "/refund"
	_, body = a.get("/dashboard/"+owner+"?payment="+pay, a.env.Seed.OwnerAdmin.ID)
	if p := parsePage(t, body); p.attr("refund-start", "href") != ownerConfirm || p.has("refund-owner-only") {
		t.Fatalf("owner's look-up: refund link %q", p.attr("refund-start", "href"))
	}
	res, body = a.get(ownerConfirm, a.env.Seed.OwnerAdmin.ID)
	key := parsePage(t, body).attr("refund-key", "value")
	if res.StatusCode != http.StatusOK || key == "" {
		t.Fatalf("owner's confirmation page: %d, key %q", res.StatusCode, key)
	}
	status, loc, _ := a.form(ownerConfirm, a.env.Seed.OwnerAdmin.ID, url.Values{"idempotency_key": {key}})
	if status != http.StatusSeeOther || loc != "/dashboard/"+owner+"?payment="+pay+"&notice=refunded#lookup" {
		t.Fatalf("owner's refund: %d %q", status, loc)
	}
	a.settle()
	if pm, _ := a.whop.GetPayment(a.ctx, pay); pm.RefundedAmount != 499 {
		t.Fatalf("refunded = %d, want 499", pm.RefundedAmount)
	}
	if b := a.balance(user); b != 0 {
		t.Fatalf("balance after the owner's refund = %d, want 0", b)
	}
}
