-- Refused top-ups read as the declines they were recorded as before.
UPDATE topups SET status = 'declined', failure_reason = 'payment refused: ' || failure_reason, updated_at = now()
 WHERE status = 'refused';

ALTER TABLE topups
    DROP CONSTRAINT topups_status_check,
    ADD CONSTRAINT topups_status_check
        CHECK (status IN ('scheduled', 'charging', 'paid', 'declined', 'canceled')),
    DROP CONSTRAINT topups_check,
    ADD CONSTRAINT topups_check
        CHECK ((status = 'declined') = (failure_reason <> '') OR status = 'canceled');

CREATE OR REPLACE FUNCTION purchases_topup_outcome() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    w record;
    n integer;
BEGIN
    SELECT * INTO t FROM topups WHERE purchase_id = NEW.id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'paid' AND t.status <> 'paid' THEN
        UPDATE topups SET status = 'paid', failure_reason = '', payment_id = NEW.payment_id, updated_at = now()
         WHERE id = t.id;
        UPDATE topup_rules SET declines_in_row = 0, updated_at = now() WHERE wallet_id = t.wallet_id AND declines_in_row > 0;
    ELSIF NEW.status = 'failed' AND t.status IN ('scheduled', 'charging') THEN
        UPDATE topups SET status = 'declined', failure_reason = COALESCE(NULLIF(NEW.failure_reason, ''), 'declined'),
               updated_at = now()
         WHERE id = t.id;
        UPDATE topup_rules SET declines_in_row = declines_in_row + 1,
               enabled = enabled AND declines_in_row + 1 < 2,
               disabled_reason = CASE WHEN enabled AND declines_in_row + 1 >= 2
                                      THEN 'two top-ups in a row were declined; save a payment method again'
                                      ELSE disabled_reason END,
               updated_at = now()
         WHERE wallet_id = t.wallet_id
        RETURNING declines_in_row INTO n;
        SELECT experience_id, user_id INTO w FROM wallets WHERE id = t.wallet_id;
        PERFORM creditkit_notify(w.experience_id, w.user_id, 'topup_failed', 'topup_failed:' || t.id,
            'Your auto top-up failed',
            'Buying ' || NEW.credits || ' credits was declined: ' || COALESCE(NULLIF(NEW.failure_reason, ''), 'declined') ||
            CASE WHEN n >= 2 THEN ' Auto top-up is off until you save a payment method again.' ELSE '' END,
            '/activity', t.id, now());
    END IF;
    RETURN NULL;
END;
$$;
