-- The latest known state of each payment of a purchase. A checkout can see
-- several payments (a declined card, then a bank payment), and Whop
-- delivers their webhooks in any order. Keeping only the purchase's last
-- state (000016) told one order wrong: a late payment.pending of a payment
-- whose failure had since been replaced by another payment's newer failure
-- made the purchase processing again, because the first failure was no
-- longer known. Each payment's state is now kept here, with Whop's time of
-- it (NULL when the source gave none: legacy webhooks, the v2 and v5
-- payment APIs) and the app's time of recording it, and the purchase's
-- status is derived from all of them (ledger.MarkPurchase): processing
-- while any payment is under way, else failed with the newest failure's
-- reason (newest by Whop's time, or, where Whop gave none, by when the
-- state was recorded). A payment the app refused to credit although it
-- charged the buyer is 'refused': final, and neither under way nor failed
-- (ledger.RecordRejection). Rows are written only with the purchase's row
-- locked.
CREATE TABLE purchase_payment_states (
    purchase_id text        NOT NULL REFERENCES purchases (id),
    payment_id  text        NOT NULL CHECK (length(payment_id) BETWEEN 1 AND 100),
    status      text        NOT NULL CHECK (status IN ('processing', 'failed', 'refused')),
    reason      text        NOT NULL DEFAULT '',
    at          timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (purchase_id, payment_id)
);

-- What 000016 kept of a failed purchase is its payment's failure. A
-- processing purchase's is not carried over: a state with no time moved
-- its status and left attempt_payment_id naming the payment before, so a
-- kept "processing" could be a payment that failed, whose failure no
-- webhook or reconciler run would bring again, and it would hold the
-- purchase processing for good. Such a purchase starts with no state kept,
-- and its payments' next states derive it.
INSERT INTO purchase_payment_states (purchase_id, payment_id, status, reason, at)
SELECT id, attempt_payment_id, status, failure_reason, attempt_at
  FROM purchases
 WHERE attempt_payment_id IS NOT NULL AND status = 'failed';

-- A payment already refused although it charged the buyer is final, with
-- the first reason it was refused for.
INSERT INTO purchase_payment_states (purchase_id, payment_id, status, reason, at)
SELECT DISTINCT ON (r.purchase_id, r.payment_id) r.purchase_id, r.payment_id, 'refused', r.reason, NULL
  FROM payment_rejections r JOIN purchases p ON p.id = r.purchase_id
 WHERE r.buyer_charged AND length(r.payment_id) BETWEEN 1 AND 100
 ORDER BY r.purchase_id, r.payment_id, r.id
ON CONFLICT (purchase_id, payment_id) DO UPDATE SET status = 'refused', reason = EXCLUDED.reason, at = NULL;

-- The purchase's attempt_payment_id and attempt_at now name the payment
-- its status was derived from, and that state's time when known: a
-- payment without the time.
ALTER TABLE purchases DROP CONSTRAINT purchases_attempt_check;
