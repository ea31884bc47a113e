-- A refund of money alone (too small to take back a credit more) has no
-- ledger entry, so a member's history places it after the wallet's newest
-- entry when it was recorded. That place is kept here, written with the
-- refund, so every read and every page of an export places it the same: a
-- place worked out when reading, from entries' times, moved when an entry
-- committed late, and could repeat a refund on the next page of an export.
-- NULL for a refund that took back credits (its entry places it) and for
-- a refund of money alone before the wallet had any entry.
ALTER TABLE purchase_refunds ADD COLUMN after_entry_id bigint REFERENCES ledger_entries (id);

CREATE OR REPLACE FUNCTION purchases_log_refund() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO purchase_refunds (purchase_id, amount, credits, refunded_credits, after_entry_id)
    VALUES (NEW.id, GREATEST(NEW.refunded_amount - OLD.refunded_amount, 0),
            GREATEST(NEW.refunded_credits - OLD.refunded_credits, 0), NEW.refunded_credits,
            CASE WHEN NEW.refunded_credits <= OLD.refunded_credits THEN
                (SELECT e.id FROM ledger_entries e
                  WHERE e.wallet_id = (SELECT w.id FROM wallets w
                                        WHERE w.experience_id = NEW.experience_id AND w.user_id = NEW.user_id)
                  ORDER BY e.id DESC LIMIT 1)
            END);
    RETURN NULL;
END;
$$;

-- Refunds of money alone recorded before: placed by time, once.
ALTER TABLE purchase_refunds DISABLE TRIGGER purchase_refunds_append_only;
UPDATE purchase_refunds r
   SET after_entry_id = (SELECT e.id FROM ledger_entries e
                          WHERE e.wallet_id = (SELECT w.id FROM wallets w JOIN purchases p
                                                   ON p.experience_id = w.experience_id AND p.user_id = w.user_id
                                                WHERE p.id = r.purchase_id)
                            AND e.created_at <= r.created_at
                          ORDER BY e.id DESC LIMIT 1)
 WHERE r.credits = 0;
ALTER TABLE purchase_refunds ENABLE TRIGGER purchase_refunds_append_only;
