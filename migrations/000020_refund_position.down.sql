CREATE OR REPLACE FUNCTION purchases_log_refund() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO purchase_refunds (purchase_id, amount, credits, refunded_credits)
    VALUES (NEW.id, GREATEST(NEW.refunded_amount - OLD.refunded_amount, 0),
            GREATEST(NEW.refunded_credits - OLD.refunded_credits, 0), NEW.refunded_credits);
    RETURN NULL;
END;
$$;
ALTER TABLE purchase_refunds DROP COLUMN after_entry_id;
