-- A top-up whose payment Whop took from the member but the app refused (it
-- did not fit the top-up's purchase, or was disputed before it was
-- credited) is not a declined card: the member paid and got no credits.
-- It ends 'refused', not 'declined', so the member's page and notification
-- say so and send them to their Whop receipts, and it turns the rule off at
-- once: another charge could go the same way. failure_reason holds the
-- refusal's own reason (earlier rows are read once, below, where their
-- reason is that refusal's, so the down migration restores them exactly).
-- A refusal that charged the member is the one the app records with
-- buyer_charged (migration 000014); it is committed before the job marks
-- the purchase failed for it, which is what fires the trigger.
ALTER TABLE topups
    DROP CONSTRAINT topups_status_check,
    ADD CONSTRAINT topups_status_check
        CHECK (status IN ('scheduled', 'charging', 'paid', 'declined', 'refused', 'canceled')),
    DROP CONSTRAINT topups_check,
    ADD CONSTRAINT topups_check
        CHECK ((status IN ('declined', 'refused')) = (failure_reason <> '') OR status = 'canceled');

UPDATE topups t
   SET status = 'refused', failure_reason = r.reason, updated_at = now()
  FROM (SELECT DISTINCT ON (purchase_id) purchase_id, reason
          FROM payment_rejections WHERE buyer_charged ORDER BY purchase_id, id DESC) r
 WHERE t.status = 'declined' AND r.purchase_id = t.purchase_id
   AND t.failure_reason = 'payment refused: ' || r.reason;

CREATE OR REPLACE FUNCTION purchases_topup_outcome() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    w record;
    n integer;
    refused text;
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
        -- The job fails the purchase for 'payment refused: ' and the
        -- refusal's reason (TopUps.refuse); a card's decline is not one.
        SELECT reason INTO refused FROM payment_rejections
         WHERE purchase_id = NEW.id AND buyer_charged AND NEW.failure_reason = 'payment refused: ' || reason
         ORDER BY id DESC LIMIT 1;
        SELECT experience_id, user_id INTO w FROM wallets WHERE id = t.wallet_id;
        IF refused IS NOT NULL THEN
            UPDATE topups SET status = 'refused', failure_reason = refused, updated_at = now() WHERE id = t.id;
            UPDATE topup_rules SET declines_in_row = declines_in_row + 1, enabled = false,
                   disabled_reason = CASE WHEN enabled
                                          THEN 'a top-up was charged but not credited; check your Whop receipts, then save a payment method again'
                                          ELSE disabled_reason END,
                   updated_at = now()
             WHERE wallet_id = t.wallet_id;
            PERFORM creditkit_notify(w.experience_id, w.user_id, 'topup_failed', 'topup_failed:' || t.id,
                'Your auto top-up was not credited',
                'Whop charged you for ' || NEW.credits || ' credits, but the payment could not be credited (' ||
                refused || '), so no credits were added. Check your Whop receipts: the seller sees the payment ' ||
                'in their books and can refund it. Auto top-up is off until you save a payment method again.',
                '/activity', t.id, now());
            RETURN NULL;
        END IF;
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
        PERFORM creditkit_notify(w.experience_id, w.user_id, 'topup_failed', 'topup_failed:' || t.id,
            'Your auto top-up failed',
            'Buying ' || NEW.credits || ' credits was declined: ' || COALESCE(NULLIF(NEW.failure_reason, ''), 'declined') ||
            CASE WHEN n >= 2 THEN ' Auto top-up is off until you save a payment method again.' ELSE '' END,
            '/activity', t.id, now());
    END IF;
    RETURN NULL;
END;
$$;
