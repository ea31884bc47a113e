package whop

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// RefundStatus is the state of a refund. Only RefundSucceeded means the
// money went back.
type RefundStatus string

// Refund statuses.
const (
	RefundPending        RefundStatus = "pending"
	RefundRequiresAction RefundStatus = "requires_action"
	RefundSucceeded      RefundStatus = "succeeded"
	RefundFailed         RefundStatus = "failed"
	RefundCanceled       RefundStatus = "canceled"
)

// Refund is a refund of (part of) a payment, from a refund.* webhook.
type Refund struct {
	ID        string
	Amount    int64 // minor units of Currency
	Currency  money.Currency
	Status    RefundStatus
	CreatedAt time.Time
	PaymentID string
	// Payment is the refunded payment when the event embeds it, else nil.
	Payment *Payment
}

// Dispute is a chargeback or resolution case against a payment, from a
// dispute.* webhook.
type Dispute struct {
	ID        string
	Amount    int64 // minor units of Currency
	Currency  money.Currency
	Status    string
	Reason    string
	CreatedAt time.Time
	PaymentID string
	Payment   *Payment // when embedded, else nil
}

// wireClaim is the shared shape of refunds and disputes: an amount against a
// payment that is embedded (v1, legacy) or named by id (legacy).
type wireClaim struct {
	ID        flexString      `json:"id"`
	Amount    decNum          `json:"amount"`
	Currency  flexString      `json:"currency"`
	Status    flexString      `json:"status"`
	Reason    flexString      `json:"reason"`
	CreatedAt flexTime        `json:"created_at"`
	PaymentID flexString      `json:"payment_id"`
	Payment   json.RawMessage `json:"payment"`
}

type claim struct {
	id, status, reason string
	amount             int64
	currency           money.Currency
	createdAt          time.Time
	paymentID          string
	payment            *Payment
}

func decodeClaim(data []byte, api PaymentsAPI, kind string) (*claim, error) {
	var w wireClaim
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformedEvent, kind, err)
	}
	c := &claim{id: string(w.ID), status: string(w.Status), reason: string(w.Reason),
		createdAt: time.Time(w.CreatedAt), paymentID: string(w.PaymentID)}
	if raw := bytes.TrimSpace(w.Payment); len(raw) > 0 {
		switch raw[0] {
		case '{':
			p, err := decodePayment(raw, api)
			if err != nil {
				return nil, fmt.Errorf("%w: %s %s: %w", ErrMalformedEvent, kind, c.id, err)
			}
			c.payment = p
			c.paymentID = cmp.Or(c.paymentID, p.ID)
		case '"':
			var id flexString
			_ = id.UnmarshalJSON(raw) // a quoted string always decodes
			c.paymentID = cmp.Or(c.paymentID, string(id))
		}
	}
	// v1 disputes omit the currency; it is the payment's.
	c.currency = money.USD
	switch {
	case w.Currency != "":
		cur, err := money.ParseCurrency(string(w.Currency))
		if err != nil {
			return nil, fmt.Errorf("%w: %s %s: %w", ErrMalformedEvent, kind, c.id, err)
		}
		c.currency = cur
	case c.payment != nil:
		c.currency = c.payment.Currency
	}
	amount, err := w.Amount.minor(c.currency)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s amount: %w", ErrMalformedEvent, kind, c.id, err)
	}
	c.amount = amount
	return c, nil
}

// Refund decodes the data of a refund.* event of either generation.
func (e *Event) Refund() (*Refund, error) {
	d, err := e.data("refund")
	if err != nil {
		return nil, err
	}
	c, err := decodeClaim(d, e.generation(), "refund")
	if err != nil {
		return nil, err
	}
	return &Refund{ID: c.id, Amount: c.amount, Currency: c.currency, Status: RefundStatus(c.status),
		CreatedAt: c.createdAt, PaymentID: c.paymentID, Payment: c.payment}, nil
}

// Dispute decodes the data of a dispute.* event of either generation.
func (e *Event) Dispute() (*Dispute, error) {
	d, err := e.data("dispute")
	if err != nil {
		return nil, err
	}
	c, err := decodeClaim(d, e.generation(), "dispute")
	if err != nil {
		return nil, err
	}
	return &Dispute{ID: c.id, Amount: c.amount, Currency: c.currency, Status: c.status, Reason: c.reason,
		CreatedAt: c.createdAt, PaymentID: c.paymentID, Payment: c.payment}, nil
}
