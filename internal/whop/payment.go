package whop

import (
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// PaymentsAPI names the API generation that answered for a payment.
type PaymentsAPI string

// The payment API generations. v1 is current; v2 and v5 are the legacy APIs
// that older apps and the legacy webhooks speak.
const (
	PaymentsV1 PaymentsAPI = "v1"
	PaymentsV2 PaymentsAPI = "v2"
	PaymentsV5 PaymentsAPI = "v5"
)

// PaymentStatus is a payment's coarse state. "paid" means the money was
// captured and stays "paid" after a refund or dispute; see Substatus.
type PaymentStatus string

// Payment statuses.
const (
	PaymentDraft         PaymentStatus = "draft"
	PaymentOpen          PaymentStatus = "open"
	PaymentPaid          PaymentStatus = "paid"
	PaymentPending       PaymentStatus = "pending"
	PaymentUncollectible PaymentStatus = "uncollectible"
	PaymentUnresolved    PaymentStatus = "unresolved"
	PaymentVoid          PaymentStatus = "void"
)

// PaymentSubstatus refines PaymentStatus: whether a paid payment was
// refunded or disputed, and how a dispute is going.
type PaymentSubstatus string

// Payment substatuses.
const (
	SubstatusSucceeded                   PaymentSubstatus = "succeeded"
	SubstatusPending                     PaymentSubstatus = "pending"
	SubstatusFailed                      PaymentSubstatus = "failed"
	SubstatusPastDue                     PaymentSubstatus = "past_due"
	SubstatusCanceled                    PaymentSubstatus = "canceled"
	SubstatusPriceTooLow                 PaymentSubstatus = "price_too_low"
	SubstatusUncollectible               PaymentSubstatus = "uncollectible"
	SubstatusRefunded                    PaymentSubstatus = "refunded"
	SubstatusAutoRefunded                PaymentSubstatus = "auto_refunded"
	SubstatusPartiallyRefunded           PaymentSubstatus = "partially_refunded"
	SubstatusDisputeWarning              PaymentSubstatus = "dispute_warning"
	SubstatusDisputeNeedsResponse        PaymentSubstatus = "dispute_needs_response"
	SubstatusDisputeWarningNeedsResponse PaymentSubstatus = "dispute_warning_needs_response"
	SubstatusResolutionNeedsResponse     PaymentSubstatus = "resolution_needs_response"
	SubstatusDisputeUnderReview          PaymentSubstatus = "dispute_under_review"
	SubstatusDisputeWarningUnderReview   PaymentSubstatus = "dispute_warning_under_review"
	SubstatusResolutionUnderReview       PaymentSubstatus = "resolution_under_review"
	SubstatusDisputeWon                  PaymentSubstatus = "dispute_won"
	SubstatusDisputeWarningClosed        PaymentSubstatus = "dispute_warning_closed"
	SubstatusResolutionWon               PaymentSubstatus = "resolution_won"
	SubstatusDisputeLost                 PaymentSubstatus = "dispute_lost"
	SubstatusDisputeClosed               PaymentSubstatus = "dispute_closed"
	SubstatusResolutionLost              PaymentSubstatus = "resolution_lost"
	SubstatusDrafted                     PaymentSubstatus = "drafted"
	SubstatusIncomplete                  PaymentSubstatus = "incomplete"
	SubstatusUnresolved                  PaymentSubstatus = "unresolved"
	SubstatusOpenDispute                 PaymentSubstatus = "open_dispute"
	SubstatusOpenResolution              PaymentSubstatus = "open_resolution"
)

// Payment is a Whop payment (a receipt, "pay_…") normalized across the v1,
// v2 and v5 APIs and both webhook generations, so callers never care which
// one answered. Amounts are minor units of Currency; fields a generation does
// not carry are left zero.
type Payment struct {
	ID        string
	API       PaymentsAPI // the generation that produced this value
	Status    PaymentStatus
	Substatus PaymentSubstatus

	Currency money.Currency
	Subtotal int64
	// Total is what the buyer was charged: v1 "total", v2/v5 "final_amount".
	Total int64
	// USDTotal is Total converted to US cents by Whop.
	USDTotal int64
	// AmountAfterFees is the seller's net; v2 does not report it.
	AmountAfterFees int64
	RefundedAmount  int64

	UserID, Username, UserEmail  string
	MembershipID                 string
	MembershipStatus             MembershipStatus
	PlanID, ProductID, CompanyID string
	CheckoutConfigurationID      string
	Metadata                     map[string]string
	CreatedAt, UpdatedAt         time.Time
	PaidAt, RefundedAt           time.Time
	Refundable                   bool
	BillingReason                string
	CardBrand, CardLast4         string
	PaymentMethodType            string
	FailureMessage               string
}

// IsPaid reports whether the money was captured. It stays true after a
// refund or a dispute, as Whop's status does; check IsRefunded and
// IsDisputed before crediting.
func (p *Payment) IsPaid() bool { return p.Status == PaymentPaid }

// IsRefunded reports whether any part of the payment was given back.
func (p *Payment) IsRefunded() bool {
	switch p.Substatus {
	case SubstatusRefunded, SubstatusAutoRefunded, SubstatusPartiallyRefunded:
		return true
	}
	return p.RefundedAmount > 0 || !p.RefundedAt.IsZero()
}

// IsDisputed reports whether the payment is or was in a dispute or a
// resolution-center case, whatever its outcome.
func (p *Payment) IsDisputed() bool {
	switch p.Substatus {
	case SubstatusDisputeWarning, SubstatusDisputeNeedsResponse, SubstatusDisputeWarningNeedsResponse,
		SubstatusResolutionNeedsResponse, SubstatusDisputeUnderReview, SubstatusDisputeWarningUnderReview,
		SubstatusResolutionUnderReview, SubstatusDisputeWon, SubstatusDisputeWarningClosed,
		SubstatusResolutionWon, SubstatusDisputeLost, SubstatusDisputeClosed, SubstatusResolutionLost,
		SubstatusOpenDispute, SubstatusOpenResolution:
		return true
	}
	return false
}

// TotalAmount returns Total with its currency.
func (p *Payment) TotalAmount() money.Amount {
	return money.Amount{Minor: p.Total, Currency: p.Currency}
}
