package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivershared/uniquestates"
	"github.com/riverqueue/river/rivertype"
)

// shareBasisPoints is the app's REVENUE_SHARE_PERCENT (10 %), in basis points.
const shareBasisPoints = 1000

// delivery is one signed payment.succeeded for a pending purchase.
type delivery struct {
	id, purchase, payment string
	body                  []byte
}

// pendingPurchases records n pending purchases of users in the creator's
// experience (each created a millisecond after the last, as checkouts are)
// in one statement, and returns one payment.succeeded delivery per
// purchase, as Whop would send it.
func pendingPurchases(ctx context.Context, pool *pgxpool.Pool, tag string, n int, users []string, exp, creator, owner string) ([]delivery, error) {
	_, err := pool.Exec(ctx, `
		INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency, checkout_id,
		                       plan_id, created_at, updated_at)
		SELECT 'pur_'||$1||i, ($2::text[])[1 + i % cardinality($2::text[])], $3, $4, 'starter', 100, 499, 'usd',
		       'ch_'||$1||i, 'plan_'||$1||i, now() - (($5 - i) * interval '1 millisecond'), now()
		  FROM generate_series(0, $5 - 1) AS i`, tag, users, exp, creator, n)
	if err != nil {
		return nil, fmt.Errorf("pending purchases: %w", err)
	}
	out := make([]delivery, n)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i := range out {
		d := delivery{id: fmt.Sprintf("msg_%s%d", tag, i), purchase: fmt.Sprintf("pur_%s%d", tag, i), payment: fmt.Sprintf("pay_%s%d", tag, i)}
		d.body = []byte(fmt.Sprintf(`{"id":%q,"api_version":"v1","type":"payment.succeeded","timestamp":%q,"company_id":%q,`+
			`"data":{"id":%q,"status":"paid","substatus":"succeeded","currency":"usd","subtotal":4.99,"total":4.99,`+
			`"usd_total":4.99,"amount_after_fees":4.54,"refunded_amount":0,"user":{"id":%q},"company":{"id":%q},`+
			`"checkout_configuration_id":"ch_%s%d","metadata":{"creditkit_purchase_id":%q},`+
			`"billing_reason":"one_time","created_at":%q,"paid_at":%q}}`,
			d.id, now, owner, d.payment, users[i%len(users)], owner, tag, i, d.purchase, now, now))
		out[i] = d
	}
	return out, nil
}

// postDelivery sends one delivery, signed now, and wants a 200 whose body
// holds want. The reference's no-op POST gets the same signed request.
func postDelivery(ctx context.Context, client *http.Client, url, secret string, d delivery, want string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.body))
	req.Header.Set("Content-Type", "application/json")
	whop.SetStandardHeaders(req.Header, secret, d.id, time.Now(), d.body)
	if err := doOK(client, req, want); err != nil {
		return fmt.Errorf("webhook %s: %w", d.id, err)
	}
	return nil
}

// dropUnsold deletes the purchases the ingest prepared and never sent
// (pending: no money moved, nothing refers to them).
func dropUnsold(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `DELETE FROM purchases WHERE status = 'pending'
		AND (id LIKE 'pur\_app%' OR id LIKE 'pur\_ref%' OR id LIKE 'pur\_bare%')`)
	if err != nil {
		return fmt.Errorf("drop unsold purchases: %w", err)
	}
	return nil
}

// bareURL is where the reference server's bare receiver takes d.
func bareURL(base, owner string, d delivery) string {
	return base + "/ingest/" + owner + "/" + d.purchase + "/" + d.payment
}

// floorSQL writes, in one statement (one round trip, one implicit
// transaction, synchronous_commit on as for the app), the rows the app's
// fulfilment of a delivery writes: the purchase marked paid, the wallet
// credited, its ledger entry, the creator's revenue share, the share's
// River job and the delivery's record. It is the ingest's floor: the same
// writes with nothing around them, none of the app's code.
const floorSQL = `
WITH p AS (
	UPDATE purchases SET status = 'paid', payment_id = $2, paid_amount = $3, failure_reason = '',
	       fulfilled_at = now(), updated_at = now()
	 WHERE id = $1 AND status <> 'paid'
	RETURNING id, experience_id, user_id, company_id, credits, currency
), w AS (
	INSERT INTO wallets AS w (experience_id, user_id, balance) SELECT experience_id, user_id, credits FROM p
	ON CONFLICT (experience_id, user_id) DO UPDATE SET balance = w.balance + EXCLUDED.balance, updated_at = now()
	RETURNING w.id, w.balance
), e AS (
	INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
	SELECT w.id, 'purchase', p.credits, w.balance, p.id, 'purchase:' || p.id FROM p, w
), s AS (
	INSERT INTO revenue_shares (payment_id, purchase_id, from_company_id, to_company_id, basis_points,
	                            base_amount, amount, currency, transfer_key)
	SELECT $2, p.id, $4, p.company_id, $5, $3, $3 * $5 / 10000, p.currency, 'creditkit:revenue_share:' || $2 FROM p
), j AS (
	INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, unique_key, unique_states)
	SELECT jsonb_build_object('payment_id', $2::text), 'revenue_share', 1000, 1, 'default', 'available',
	       sha256(convert_to('&kind=revenue_share&args={"payment_id":"' || $2 || '"}', 'UTF8')), $7::integer::bit(8)
	  FROM p
	ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL
	                               AND river_job_state_in_bitmask(unique_states, state) DO NOTHING
)
INSERT INTO webhook_deliveries (id, event_type, scheme, company_id, object_id, outcome, purchase_id)
SELECT $6, 'payment.succeeded', 'standard', $4, $2,
       'fulfilled: ' || p.credits || ' credits; revenue share scheduled', p.id FROM p`

// uniqueStates is River's default unique-states bitmask, as the app's row
// carries it.
var uniqueStates = int(uniquestates.UniqueStatesToBitmask(rivertype.UniqueOptsByStateDefault()))

// floorIngest writes one delivery's rows by floorSQL.
func floorIngest(ctx context.Context, pool *pgxpool.Pool, owner string, d delivery) error {
	tag, err := pool.Exec(ctx, floorSQL, d.purchase, d.payment, 499, owner, shareBasisPoints, d.id, uniqueStates)
	if err != nil {
		return fmt.Errorf("floor %s: %w", d.id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("floor %s: wrote %d deliveries", d.id, tag.RowsAffected())
	}
	return nil
}

// checkIngestRows holds both sides to the same rows: every delivery that
// was answered has its purchase paid, its ledger entry, its share, its
// job and its record, and nothing more was written.
func checkIngestRows(ctx context.Context, pool *pgxpool.Pool, tag string, answered int) error {
	var paid, entries, shares, jobs, deliveries int
	err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM purchases WHERE id LIKE 'pur\_' || $1 || '%' AND status = 'paid'),
		(SELECT count(*) FROM ledger_entries WHERE reference LIKE 'pur\_' || $1 || '%'),
		(SELECT count(*) FROM revenue_shares WHERE payment_id LIKE 'pay\_' || $1 || '%'),
		(SELECT count(*) FROM river_job WHERE args->>'payment_id' LIKE 'pay\_' || $1 || '%'),
		(SELECT count(*) FROM webhook_deliveries WHERE id LIKE 'msg\_' || $1 || '%' AND purchase_id <> '')`, tag).
		Scan(&paid, &entries, &shares, &jobs, &deliveries)
	if err != nil {
		return err
	}
	if paid != answered || entries != answered || shares != answered || jobs != answered || deliveries != answered {
		return fmt.Errorf("ingest %q: %d deliveries answered, but %d purchases paid, %d ledger entries, %d shares, %d jobs, %d delivery records",
			tag, answered, paid, entries, shares, jobs, deliveries)
	}
	return nil
}
