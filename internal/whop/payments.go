package whop

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// defaultV2Expand is what GetPaymentV2 asks v2 to expand when the caller
// names nothing: the objects its spec documents as expandable.
var defaultV2Expand = []string{"user", "plan"}

// GetPayment retrieves a payment ("pay_…", the receipt id) from v1. Right
// after checkout a payment can be missing for a moment; expect ErrNotFound
// and retry later rather than treating it as fraud.
func (c *Client) GetPayment(ctx context.Context, id string) (*Payment, error) {
	seg, ok := pathID(id)
	if !ok {
		return nil, fmt.Errorf("%w: payment id %q", ErrInvalidArgument, id)
	}
	var w wirePayment
	if err := c.do(ctx, request{method: http.MethodGet, url: c.v1("/payments/" + seg)}, &w); err != nil {
		return nil, err
	}
	return w.normalize(PaymentsV1)
}

// GetPaymentV2 retrieves a payment from the legacy v2 API, expanding the
// named links (default "user" and "plan"; unexpanded links arrive as ids and
// decode the same way).
func (c *Client) GetPaymentV2(ctx context.Context, id string, expand ...string) (*Payment, error) {
	seg, ok := pathID(id)
	if !ok {
		return nil, fmt.Errorf("%w: payment id %q", ErrInvalidArgument, id)
	}
	if len(expand) == 0 {
		expand = defaultV2Expand
	}
	q := url.Values{"expand": {strings.Join(expand, ",")}}
	var w wirePayment
	if err := c.do(ctx, request{method: http.MethodGet, url: c.legacy("/v2/payments/" + seg), query: q}, &w); err != nil {
		return nil, err
	}
	return w.normalize(PaymentsV2)
}

// GetPaymentV5 retrieves a payment from the legacy v5 app API.
func (c *Client) GetPaymentV5(ctx context.Context, id string) (*Payment, error) {
	seg, ok := pathID(id)
	if !ok {
		return nil, fmt.Errorf("%w: payment id %q", ErrInvalidArgument, id)
	}
	var w wirePayment
	if err := c.do(ctx, request{method: http.MethodGet, url: c.legacy("/v5/app/payments/" + seg)}, &w); err != nil {
		return nil, err
	}
	return w.normalize(PaymentsV5)
}

// GetPaymentVia retrieves a payment from the named generation, for apps
// whose key or configuration works with only one of them.
func (c *Client) GetPaymentVia(ctx context.Context, api PaymentsAPI, id string) (*Payment, error) {
	switch api {
	case PaymentsV1, "":
		return c.GetPayment(ctx, id)
	case PaymentsV2:
		return c.GetPaymentV2(ctx, id)
	case PaymentsV5:
		return c.GetPaymentV5(ctx, id)
	}
	return nil, fmt.Errorf("%w: unknown payments API %q", ErrInvalidArgument, api)
}

// ListPaymentsParams filters ListPayments. Zero fields are not sent. Whop
// requires CompanyID.
type ListPaymentsParams struct {
	CompanyID                string
	Statuses                 []PaymentStatus
	Substatuses              []PaymentSubstatus
	PlanIDs                  []string
	ProductIDs               []string
	CheckoutConfigurationIDs []string
	CreatedAfter             time.Time
	CreatedBefore            time.Time
	UpdatedAfter             time.Time
	UpdatedBefore            time.Time
	Order                    string // e.g. "created_at"
	Direction                string // "asc" or "desc"
	PageSize                 int    // sent as "first"; zero leaves Whop's default
}

// ListPayments pages through v1 payments matching p, fetching each page only
// when the caller reaches it. The sequence ends after the last page, after
// a page that failed (its error yielded with a nil payment), or when the
// caller breaks; a single payment that does not decode is yielded as an
// error and paging goes on.
func (c *Client) ListPayments(ctx context.Context, p ListPaymentsParams) iter.Seq2[*Payment, error] {
	q := make(queryBuilder)
	q.set("company_id", p.CompanyID)
	q.list("statuses", stringsOf(p.Statuses))
	q.list("substatuses", stringsOf(p.Substatuses))
	q.list("plan_ids", p.PlanIDs)
	q.list("product_ids", p.ProductIDs)
	q.list("checkout_configuration_ids", p.CheckoutConfigurationIDs)
	q.time("created_after", p.CreatedAfter)
	q.time("created_before", p.CreatedBefore)
	q.time("updated_after", p.UpdatedAfter)
	q.time("updated_before", p.UpdatedBefore)
	q.set("order", p.Order)
	q.set("direction", p.Direction)
	return paginate(ctx, c, c.v1("/payments"), q, p.PageSize, func(w *wirePayment) (*Payment, error) {
		return w.normalize(PaymentsV1)
	})
}

// RefundParams asks for a refund of a payment.
type RefundParams struct {
	// Partial refunds that much; nil refunds the whole payment.
	Partial *money.Amount
	// IdempotencyKey, when set, is sent as Idempotency-Key: Whop answers a
	// repeated request with the first refund instead of refunding again,
	// which matters because refunds settle asynchronously (the payment may
	// not show the first one yet when a resubmitted form arrives). It also
	// makes the call safe to retry; without it the call is sent once.
	IdempotencyKey string
}

// RefundPayment refunds a payment in full or in part, and returns the
// payment as Whop reports it afterwards. Refunds settle asynchronously, so
// the result may not show them yet.
func (c *Client) RefundPayment(ctx context.Context, id string, p RefundParams) (*Payment, error) {
	seg, ok := pathID(id)
	if !ok {
		return nil, fmt.Errorf("%w: payment id %q", ErrInvalidArgument, id)
	}
	body := map[string]any{}
	if p.Partial != nil {
		if p.Partial.Minor <= 0 {
			return nil, fmt.Errorf("%w: partial refund of %s", ErrInvalidArgument, p.Partial)
		}
		body["partial_amount"] = json.Number(p.Partial.Major())
	}
	var w wirePayment
	req := request{method: http.MethodPost, url: c.v1("/payments/" + seg + "/refund"), body: body, idempotencyKey: p.IdempotencyKey}
	if err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	return w.normalize(PaymentsV1)
}
