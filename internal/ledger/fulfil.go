package ledger

import (
	"context"
	"errors"
	"fmt"
)

// fulfilSQL is Settle's common case in one plain statement: a payment with
// nothing refunded, for an unpaid purchase it matches ($5…$8, under the row
// lock the UPDATE takes; $5 NULL: the caller checked). It marks the
// purchase paid, credits the wallet with the ledger entry, records the
// creator's share and its River job when one is due ($9 NULL: none; none
// either for a sale in $9's own company), counts the credit on the
// reconciler run ($19) and records the delivery ($20 NULL: none) with its
// outcome. The delivery's id is its primary key, so a repeat fails the
// whole statement, which writes nothing. No row back means the purchase is
// no such one (paid, missing, or the payment's mismatch) and nothing was
// written: creditkit_settle handles those, and refunds.
//
// It is a statement, not a call of creditkit_settle, because it is the
// webhook's hot path: a plain statement costs Postgres measurably less
// than the same writes made by a PL/pgSQL function (see the README's
// performance section). TestFulfilWritesWhatSettleWrites holds the two to
// the same rows.
var fulfilSQL = `
WITH p AS (
	UPDATE purchases SET status = 'paid', payment_id = $2, paid_amount = $3, failure_reason = '',
	       fulfilled_at = now(), updated_at = now(), buyer_username = COALESCE(NULLIF($4, ''), buyer_username)
	 WHERE id = $1 AND status <> 'paid'
	   AND ($5::text IS NULL OR (user_id = $5 AND currency = $6 AND price <= $3 AND checkout_id = $7 AND NOT $8::boolean))
	RETURNING *
), w AS (
	INSERT INTO wallets AS w (experience_id, user_id, balance) SELECT experience_id, user_id, credits FROM p
	ON CONFLICT (experience_id, user_id) DO UPDATE SET balance = w.balance + EXCLUDED.balance, updated_at = now()
	RETURNING w.id AS wallet_id, w.balance AS wallet_balance
), e AS (
	INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
	SELECT w.wallet_id, 'purchase', p.credits, w.wallet_balance, p.id, 'purchase:' || p.id FROM p, w
), s AS (
	INSERT INTO revenue_shares (payment_id, purchase_id, from_company_id, to_company_id, basis_points,
	                            base_amount, amount, currency, transfer_key)
	SELECT $2, p.id, $9, p.company_id, $10, $3, $11, p.currency, 'creditkit:revenue_share:' || $2
	  FROM p WHERE p.company_id <> $9
	RETURNING 1
), j AS (
	INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, scheduled_at, tags, metadata,
	                       unique_key, unique_states)
	SELECT $12, $13, $14, $15, $16, 'available', now(), '{}', '{}', $17, NULLIF($18::integer, 0)::bit(8) FROM s
	ON CONFLICT (unique_key)
	    WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL AND river_job_state_in_bitmask(unique_states, state)
	DO NOTHING
), r AS (
	UPDATE reconciler_runs SET credited = credited + 1 WHERE id = $19 AND EXISTS (SELECT 1 FROM p)
), d AS (
	INSERT INTO webhook_deliveries (id, event_type, scheme, company_id, object_id, outcome, purchase_id)
	SELECT $20, $21, $22, $23, $24,
	       'fulfilled: ' || p.credits || ' credits' ||
	       CASE WHEN EXISTS (SELECT 1 FROM s) THEN '; revenue share scheduled' ELSE '' END,
	       p.id
	  FROM p WHERE $20::text IS NOT NULL
)
SELECT EXISTS (SELECT 1 FROM s), w.wallet_balance, ` + purchaseColumns + ` FROM p, w`

// fulfil tries Settle's common case (fulfilSQL); done is false when the
// purchase was no such case and nothing was written.
func (s *Store) fulfil(ctx context.Context, st Settlement, job *JobRow, d *Delivery) (res SettleResult, done bool, err error) {
	args := make([]any, 24)
	args[0], args[1], args[2], args[3] = st.PurchaseID, st.PaymentID, st.PaidAmount, st.BuyerUsername
	if m := st.Match; m != nil {
		args[4], args[5], args[6], args[7] = m.UserID, m.Currency, m.CheckoutID, m.Disputed
	}
	if sh := st.Share; sh != nil {
		args[8], args[9], args[10] = sh.FromCompanyID, sh.BasisPoints, sh.Amount
		args[11], args[12], args[13], args[14] = job.Args, job.Kind, job.MaxAttempts, job.Priority
		args[15], args[16], args[17] = job.Queue, job.UniqueKey, job.UniqueStates
	}
	if st.ReconcilerRun != 0 {
		args[18] = st.ReconcilerRun
	}
	if d != nil {
		args[19], args[20], args[21], args[22], args[23] = d.ID, d.Type, d.Scheme, d.CompanyID, d.ObjectID
	}
	err = scanPurchaseAfter(s.pool.QueryRow(ctx, fulfilSQL, args...), &res.Purchase, &res.ShareScheduled, &res.Balance)
	switch {
	case errors.Is(err, ErrNotFound):
		return SettleResult{}, false, nil
	case isUniqueViolation(err, "webhook_deliveries_pkey"):
		return SettleResult{}, false, ErrDuplicateDelivery
	case err != nil:
		return SettleResult{}, false, fmt.Errorf("fulfil: %w", err)
	}
	res.Credited = res.Purchase.Credits
	return res, true, nil
}

// jobRow is the share's river_job row, when a share may be due and the
// store can ask for jobs; nil otherwise.
func (s *Store) jobRow(st Settlement) (*JobRow, error) {
	if st.Share == nil || s.jobs == nil {
		return nil, nil
	}
	row, err := s.jobs.JobRow(RevenueShareJob{PaymentID: st.PaymentID})
	if err != nil {
		return nil, err
	}
	return &row, nil
}
