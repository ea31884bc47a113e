package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/jackc/pgx/v5/pgxpool"
)

// delivery is one signed payment.succeeded for a pending purchase.
type delivery struct {
	id   string
	body []byte
	ev   *whop.Event   // decoded before timing, for the reference
	pay  *whop.Payment // likewise
}

// pendingPurchases inserts n pending purchases for users in one statement
// and returns one signed delivery per purchase, as Whop would send them.
func pendingPurchases(ctx context.Context, pool *pgxpool.Pool, tag string, n int, users []string, exp, company, secret string) ([]delivery, error) {
	_, err := pool.Exec(ctx, `
		INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id, plan_id)
		SELECT 'pur_'||$1||i, ($2::text[])[1 + i % cardinality($2::text[])], $3, $4, 'starter', 100, 499, 'usd',
		       'ch_'||$1||i, 'plan_'||$1||i
		  FROM generate_series(0, $5 - 1) AS i`, tag, users, exp, company, n)
	if err != nil {
		return nil, fmt.Errorf("pending purchases: %w", err)
	}
	verifier := whop.NewWebhookVerifier(secret)
	out := make([]delivery, n)
	now := time.Now().UTC()
	for i := range out {
		id := fmt.Sprintf("msg_%s%d", tag, i)
		body := []byte(fmt.Sprintf(`{"id":%q,"api_version":"v1","type":"payment.succeeded","timestamp":%q,"company_id":%q,`+
			`"data":{"id":"pay_%s%d","status":"paid","substatus":"succeeded","currency":"usd","subtotal":4.99,"total":4.99,`+
			`"usd_total":4.99,"amount_after_fees":4.54,"refunded_amount":0,"user":{"id":%q},"company":{"id":%q},`+
			`"checkout_configuration_id":"ch_%s%d","metadata":{"creditkit_purchase_id":"pur_%s%d"},`+
			`"billing_reason":"one_time","created_at":%q,"paid_at":%q}}`,
			id, now.Format(time.RFC3339Nano), company, tag, i, users[i%len(users)], company, tag, i, tag, i,
			now.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano)))
		h := http.Header{}
		whop.SetStandardHeaders(h, secret, id, now, body)
		ev, err := verifier.Verify(h, body)
		if err != nil {
			return nil, fmt.Errorf("bench delivery does not verify: %w", err)
		}
		pay, err := ev.Payment()
		if err != nil {
			return nil, err
		}
		out[i] = delivery{id: id, body: body, ev: ev, pay: pay}
	}
	return out, nil
}

// postDelivery sends one delivery to the app, signed now.
func postDelivery(ctx context.Context, client *http.Client, url, secret string, d delivery, want string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/webhook", bytes.NewReader(d.body))
	req.Header.Set("Content-Type", "application/json")
	whop.SetStandardHeaders(req.Header, secret, d.id, time.Now(), d.body)
	if err := doOK(client, req, want); err != nil {
		return fmt.Errorf("webhook %s: %w", d.id, err)
	}
	return nil
}

// ingestReference does what the webhook route does for a new delivery,
// minus HTTP, the signature and JSON: the duplicate check and the one
// fulfilment function's transactions, straight through pgx.
func ingestReference(ctx context.Context, store *ledger.Store, svc *billing.Service, d delivery) error {
	if seen, err := store.DeliverySeen(ctx, d.ev.ID); err != nil || seen {
		return fmt.Errorf("reference: seen=%t err=%v", seen, err)
	}
	out, err := svc.FulfilPayment(ctx, d.pay, billing.FromWebhook,
		&ledger.Delivery{ID: d.ev.ID, Type: d.ev.Type, Scheme: string(d.ev.Scheme), CompanyID: d.ev.CompanyID, ObjectID: d.pay.ID})
	if err != nil {
		return err
	}
	if out.Credited != 100 {
		return fmt.Errorf("reference credited %d", out.Credited)
	}
	return nil
}
