package whop

import (
	"cmp"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// wirePayment is the union of the payment fields of every generation. Their
// names mostly do not collide, so one decoder reads v1 (nested links, ISO
// times), v2 (ids or expanded objects, unix times, "last4"), v5 and legacy
// webhooks (flat "*_id", "card_last_4", times as numbers or strings).
type wirePayment struct {
	ID        flexString `json:"id"`
	Status    flexString `json:"status"`
	Substatus flexString `json:"substatus"`
	Currency  flexString `json:"currency"`

	Subtotal        decNum `json:"subtotal"`
	Total           decNum `json:"total"`
	FinalAmount     decNum `json:"final_amount"`
	USDTotal        decNum `json:"usd_total"`
	AmountAfterFees decNum `json:"amount_after_fees"`
	RefundedAmount  decNum `json:"refunded_amount"`

	User         link       `json:"user"`
	UserID       flexString `json:"user_id"`
	UserEmail    flexString `json:"user_email"`
	Email        flexString `json:"email"`
	Membership   link       `json:"membership"`
	MembershipID flexString `json:"membership_id"`
	Plan         link       `json:"plan"`
	PlanID       flexString `json:"plan_id"`
	Product      link       `json:"product"`
	ProductID    flexString `json:"product_id"`
	AccessPass   link       `json:"access_pass"` // products' older name
	Company      link       `json:"company"`
	CompanyID    flexString `json:"company_id"`
	AccountID    flexString `json:"account_id"` // company_id in newer API versions

	CheckoutConfigurationID flexString `json:"checkout_configuration_id"`
	CheckoutSession         link       `json:"checkout_session"`    // v2 memberships' name
	CheckoutRequestID       flexString `json:"checkout_request_id"` // v2 payments' name
	CheckoutID              flexString `json:"checkout_id"`         // v5's name
	Metadata                metadata   `json:"metadata"`
	// MembershipMetadata is all v2 carries: the checkout's metadata as
	// copied onto the membership, which is the same map.
	MembershipMetadata metadata `json:"membership_metadata"`

	CreatedAt  flexTime `json:"created_at"`
	UpdatedAt  flexTime `json:"updated_at"`
	PaidAt     flexTime `json:"paid_at"`
	RefundedAt flexTime `json:"refunded_at"`

	Refundable        optBool    `json:"refundable"`
	BillingReason     flexString `json:"billing_reason"`
	CardBrand         flexString `json:"card_brand"`
	CardLast4         flexString `json:"card_last4"`
	Last4             flexString `json:"last4"`
	CardLast4Legacy   flexString `json:"card_last_4"`
	PaymentMethodType flexString `json:"payment_method_type"`
	FailureMessage    flexString `json:"failure_message"`
}

// decodePayment reads one payment object of any generation.
func decodePayment(data []byte, api PaymentsAPI) (*Payment, error) {
	if w, ok := fastPayment(data); ok {
		return w.normalize(api)
	}
	var w wirePayment
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("whop: decode payment: %w", err)
	}
	return w.normalize(api)
}

func (w *wirePayment) normalize(api PaymentsAPI) (*Payment, error) {
	cur := money.USD // Whop's default when a generation omits it
	if w.Currency != "" {
		c, err := money.ParseCurrency(string(w.Currency))
		if err != nil {
			return nil, fmt.Errorf("whop: decode payment: %w", err)
		}
		cur = c
	}
	p := &Payment{
		ID:        string(w.ID),
		API:       api,
		Status:    PaymentStatus(w.Status),
		Substatus: PaymentSubstatus(w.Substatus),
		Currency:  cur,

		UserID:           cmp.Or(w.User.ID, string(w.UserID)),
		Username:         w.User.Username,
		UserEmail:        cmp.Or(w.User.Email, string(w.UserEmail), string(w.Email)),
		MembershipID:     cmp.Or(w.Membership.ID, string(w.MembershipID)),
		MembershipStatus: MembershipStatus(w.Membership.Status),
		PlanID:           cmp.Or(w.Plan.ID, string(w.PlanID)),
		ProductID:        cmp.Or(w.Product.ID, string(w.ProductID), w.AccessPass.ID),
		CompanyID:        cmp.Or(w.Company.ID, string(w.CompanyID), string(w.AccountID)),

		CheckoutConfigurationID: cmp.Or(string(w.CheckoutConfigurationID), w.CheckoutSession.ID,
			string(w.CheckoutRequestID), string(w.CheckoutID)),
		Metadata: w.Metadata,

		CreatedAt:  time.Time(w.CreatedAt),
		UpdatedAt:  time.Time(w.UpdatedAt),
		PaidAt:     time.Time(w.PaidAt),
		RefundedAt: time.Time(w.RefundedAt),

		Refundable:        w.Refundable.val,
		BillingReason:     string(w.BillingReason),
		CardBrand:         string(w.CardBrand),
		CardLast4:         cmp.Or(string(w.CardLast4), string(w.Last4), string(w.CardLast4Legacy)),
		PaymentMethodType: string(w.PaymentMethodType),
		FailureMessage:    string(w.FailureMessage),
	}
	if p.Metadata == nil {
		p.Metadata = w.MembershipMetadata
	}
	// "final_amount" is what v2 and v5 call the charged amount; where both
	// it and "total" appear, it is the one that matches v1's "total".
	total := w.Total
	if w.FinalAmount != "" {
		total = w.FinalAmount
	}
	amounts := []struct {
		dst  *int64
		src  decNum
		name string
	}{
		{&p.Subtotal, w.Subtotal, "subtotal"},
		{&p.Total, total, "total"},
		{&p.AmountAfterFees, w.AmountAfterFees, "amount_after_fees"},
		{&p.RefundedAmount, w.RefundedAmount, "refunded_amount"},
	}
	for _, a := range amounts {
		n, err := a.src.minor(cur)
		if err != nil {
			return nil, fmt.Errorf("whop: decode payment %s: %s: %w", p.ID, a.name, err)
		}
		*a.dst = n
	}
	usd, err := w.USDTotal.minor(money.USD)
	if err != nil {
		return nil, fmt.Errorf("whop: decode payment %s: usd_total: %w", p.ID, err)
	}
	p.USDTotal = usd
	return p, nil
}
