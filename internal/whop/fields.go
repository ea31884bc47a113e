package whop

// Payment fields that an API generation may not report (PROTOCOL §3, and
// the sandbox's v2 and v5 renderers): a look-up shows them as "not reported"
// rather than as an empty value that would read like a fact.
const (
	FieldSubstatus         = "substatus"
	FieldNet               = "amount_after_fees"
	FieldUSDTotal          = "usd_total"
	FieldRefundable        = "refundable"
	FieldUpdatedAt         = "updated_at"
	FieldMembershipStatus  = "membership_status"
	FieldUsername          = "username"
	FieldBillingReason     = "billing_reason"
	FieldPaymentMethodType = "payment_method_type"
)

// unreported lists, per generation, the fields it does not carry. v1
// carries everything; v2 has no substatus, net amount or refundability; v5
// (app payments) is flat and terse.
var unreported = map[PaymentsAPI][]string{
	PaymentsV1: nil,
	PaymentsV2: {FieldSubstatus, FieldNet, FieldUSDTotal, FieldRefundable, FieldUpdatedAt, FieldMembershipStatus},
	PaymentsV5: {FieldSubstatus, FieldUSDTotal, FieldRefundable, FieldUpdatedAt, FieldMembershipStatus,
		FieldUsername, FieldBillingReason, FieldPaymentMethodType},
}

// Unreported is the set of fields (the Field constants) a payment read
// through api does not carry; empty for v1, which carries them all.
func Unreported(api PaymentsAPI) map[string]bool {
	out := make(map[string]bool, len(unreported[api]))
	for _, f := range unreported[api] {
		out[f] = true
	}
	return out
}
