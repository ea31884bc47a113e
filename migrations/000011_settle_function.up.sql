-- Settling a payment against a purchase takes one statement, one round trip
-- and one implicit transaction, where the Go code made about fifteen (a read
-- of the delivery, a read of the purchase, BEGIN, a claim, a locking read,
-- the writes, two updates of the delivery, two re-reads, COMMIT). The usual
-- case (a payment with nothing refunded, for an unpaid purchase) is one
-- plain statement the ledger sends itself (ledger.fulfilSQL: the webhook's
-- hot path, where a plain statement costs Postgres less than a function
-- call); every case, that one included, is this function. Every rule stays
-- where it was: the row lock on the purchase, the UNIQUE keys (the delivery
-- id, the ledger entry's idempotency key, the share's payment, the job's
-- unique key), the ledger triggers checked at commit, and the caller
-- answers Whop only after the statement (and so the commit) returned.
--
-- The function writes the revenue-share job's river_job row itself, in the
-- same transaction as the share: the caller computes the row as River's
-- InsertTx would (billing.RiverJobRow, whose test holds it to River's own)
-- and River works it like any other job.
--
-- What the caller cannot know without reading the purchase (is it this
-- user's, in this currency, at most this price, for this checkout, still
-- unpaid while the payment is disputed?) is checked here under the row lock;
-- when it fails the function raises and nothing is written, and the caller
-- reads the purchase to say why. The failures raise SQLSTATEs of their own
-- (class CK), so nothing is left half-done:
--   CK001 the purchase is already paid by another payment (in the detail)
--   CK002 there is no such purchase
--   CK003 the payment does not match the purchase
--   CK004 the delivery was recorded before (a repeat)
--   CK005 a share is due but no job row was given for it
CREATE FUNCTION creditkit_settle(
    p_purchase_id      text,
    p_payment_id       text,
    p_paid_amount      bigint,
    p_buyer            text,
    p_refunded_amount  bigint,
    p_refunded_credits bigint,
    -- the payment's side of the checks; NULL p_user: the caller made them
    p_user             text,
    p_currency         text,
    p_checkout         text,
    p_disputed         boolean,
    -- the revenue share due on a fulfilment (NULL p_share_from: none); it
    -- goes to the purchase's company, and there is none when that company
    -- is p_share_from itself
    p_share_from       text,
    p_share_bp         bigint,
    p_share_amount     bigint,
    -- the share job's river_job row
    p_job_kind         text,
    p_job_args         jsonb,
    p_job_max_attempts smallint,
    p_job_priority     smallint,
    p_job_queue        text,
    p_job_unique_key   bytea,
    p_job_unique_states integer,
    -- the reconciler run making this settlement, or NULL
    p_reconciler_run   bigint,
    -- the webhook delivery, recorded with the outcome (NULL p_delivery_id: none)
    p_delivery_id      text,
    p_delivery_type    text,
    p_delivery_scheme  text,
    p_delivery_company text,
    p_delivery_object  text,
    OUT outcome         text,
    OUT credited        bigint,
    OUT taken_back      bigint,
    OUT balance         bigint,
    OUT share_scheduled boolean,
    OUT share_clawback  boolean,
    OUT purchase        purchases)
LANGUAGE plpgsql AS $$
DECLARE
    p      purchases%ROWTYPE;
    wid    bigint;
    target bigint;
    delta  bigint;
    n      bigint;
BEGIN
    credited := 0;
    taken_back := 0;
    share_scheduled := false;
    share_clawback := false;
    outcome := 'already fulfilled';

    -- The common case in one statement: an unpaid purchase the payment
    -- matches is locked and marked paid.
    UPDATE purchases
       SET status = 'paid', payment_id = p_payment_id, paid_amount = p_paid_amount, failure_reason = '',
           fulfilled_at = now(), updated_at = now(),
           buyer_username = COALESCE(NULLIF(p_buyer, ''), buyer_username)
     WHERE id = p_purchase_id AND status <> 'paid'
       AND (p_user IS NULL OR (user_id = p_user AND currency = p_currency AND price <= p_paid_amount
                               AND checkout_id = p_checkout AND NOT p_disputed))
    RETURNING * INTO p;

    IF FOUND THEN
        INSERT INTO wallets AS w (experience_id, user_id, balance) VALUES (p.experience_id, p.user_id, p.credits)
        ON CONFLICT (experience_id, user_id)
        DO UPDATE SET balance = w.balance + EXCLUDED.balance, updated_at = now()
        RETURNING w.id, w.balance INTO wid, balance;
        INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
        VALUES (wid, 'purchase', p.credits, balance, p.id, 'purchase:' || p.id);
        credited := p.credits;
        outcome := 'fulfilled: ' || p.credits || ' credits';

        IF p_share_from IS NOT NULL AND p.company_id <> p_share_from THEN
            IF p_job_kind IS NULL THEN
                RAISE EXCEPTION 'a revenue share is due on purchase % but no job row was given', p.id
                    USING ERRCODE = 'CK005';
            END IF;
            INSERT INTO revenue_shares (payment_id, purchase_id, from_company_id, to_company_id, basis_points,
                                        base_amount, amount, currency, transfer_key)
            VALUES (p_payment_id, p.id, p_share_from, p.company_id, p_share_bp, p_paid_amount, p_share_amount,
                    p.currency, 'creditkit:revenue_share:' || p_payment_id);
            INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, scheduled_at, tags, metadata,
                                   unique_key, unique_states)
            VALUES (p_job_args, p_job_kind, p_job_max_attempts, p_job_priority, p_job_queue, 'available', now(),
                    '{}', '{}', p_job_unique_key, NULLIF(p_job_unique_states, 0)::bit(8))
            ON CONFLICT (unique_key)
                WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL
                  AND river_job_state_in_bitmask(unique_states, state)
            DO NOTHING;
            share_scheduled := true;
            outcome := outcome || '; revenue share scheduled';
        END IF;
    ELSE
        -- Not a plain fulfilment: lock the purchase and find out why.
        SELECT * INTO p FROM purchases WHERE id = p_purchase_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no purchase %', p_purchase_id USING ERRCODE = 'CK002';
        END IF;
        IF p_user IS NOT NULL AND NOT (p.user_id = p_user AND p.currency = p_currency AND p.price <= p_paid_amount
                                       AND p.checkout_id = p_checkout AND NOT (p.status <> 'paid' AND p_disputed)) THEN
            RAISE EXCEPTION 'payment % does not match purchase %', p_payment_id, p.id USING ERRCODE = 'CK003';
        END IF;
        IF p.status <> 'paid' THEN
            -- An unpaid purchase the payment matches took the first branch,
            -- unless it was committed after that statement's snapshot: the
            -- caller tries again.
            RAISE EXCEPTION 'purchase % appeared while it was being settled', p.id USING ERRCODE = '40001';
        END IF;
        IF p.payment_id <> p_payment_id THEN
            RAISE EXCEPTION 'purchase % is paid by another payment', p.id
                USING ERRCODE = 'CK001', DETAIL = p.payment_id;
        END IF;
    END IF;

    -- Refunds: the payment's cumulative refund, applied once.
    target := LEAST(p_refunded_credits, p.credits);
    delta := target - p.refunded_credits;
    IF delta > 0 THEN
        INSERT INTO wallets AS w (experience_id, user_id, balance) VALUES (p.experience_id, p.user_id, -delta)
        ON CONFLICT (experience_id, user_id)
        DO UPDATE SET balance = w.balance + EXCLUDED.balance, updated_at = now()
        RETURNING w.id, w.balance INTO wid, balance;
        INSERT INTO ledger_entries (wallet_id, kind, amount, balance_after, reference, idempotency_key)
        VALUES (wid, 'refund', -delta, balance, p_payment_id, 'refund:' || p.id || ':' || target);
        taken_back := delta;
        outcome := outcome || '; refund took back ' || delta || ' credits';
    END IF;
    IF target > p.refunded_credits OR p_refunded_amount > p.refunded_amount THEN
        UPDATE purchases SET refunded_amount = GREATEST(refunded_amount, p_refunded_amount),
               refunded_credits = GREATEST(refunded_credits, target), updated_at = now()
         WHERE id = p.id
        RETURNING * INTO p;
    END IF;
    IF p_refunded_amount > 0 THEN
        -- The creator's part of the refund, by the share's own rule (rounded
        -- down, so a full refund takes back exactly the share).
        WITH s AS (
            SELECT id, LEAST(p_refunded_amount, base_amount) AS refunded,
                   LEAST(p_refunded_amount, base_amount) * basis_points / 10000 AS total
              FROM revenue_shares WHERE purchase_id = p.id
        ), prev AS (
            SELECT COALESCE(max(c.clawback_total), 0) AS total
              FROM revenue_share_clawbacks c JOIN s ON c.share_id = s.id
        )
        INSERT INTO revenue_share_clawbacks (share_id, refunded_total, amount, clawback_total)
        SELECT s.id, s.refunded, s.total - prev.total, s.total FROM s, prev WHERE s.total > prev.total;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            share_clawback := true;
            outcome := outcome || '; refund recorded against the revenue share';
        END IF;
    END IF;

    IF p_reconciler_run IS NOT NULL AND (credited > 0 OR taken_back > 0) THEN
        UPDATE reconciler_runs r
           SET credited = r.credited + (creditkit_settle.credited > 0)::int,
               refunded = r.refunded + (creditkit_settle.taken_back > 0)::int
         WHERE r.id = p_reconciler_run;
    END IF;
    IF credited = 0 AND taken_back = 0 THEN
        SELECT w.balance INTO balance FROM wallets w WHERE w.experience_id = p.experience_id AND w.user_id = p.user_id;
        balance := COALESCE(balance, 0);
    END IF;

    -- Last, the delivery, with its outcome: its id is the primary key, so a
    -- repeat (even one racing this) raises here and undoes everything above.
    IF p_delivery_id IS NOT NULL THEN
        INSERT INTO webhook_deliveries (id, event_type, scheme, company_id, object_id, outcome, purchase_id)
        VALUES (p_delivery_id, p_delivery_type, p_delivery_scheme, p_delivery_company, p_delivery_object, outcome, p.id)
        ON CONFLICT (id) DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'delivery % was recorded before', p_delivery_id USING ERRCODE = 'CK004';
        END IF;
    END IF;
    purchase := p;
END;
$$;
