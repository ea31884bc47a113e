ALTER TABLE purchases
    DROP CONSTRAINT purchases_attempt_check,
    DROP COLUMN attempt_at,
    DROP COLUMN attempt_payment_id;
