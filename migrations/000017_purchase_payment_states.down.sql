DROP TABLE purchase_payment_states;
UPDATE purchases SET attempt_payment_id = NULL WHERE attempt_at IS NULL;
ALTER TABLE purchases
    ADD CONSTRAINT purchases_attempt_check CHECK ((attempt_payment_id IS NULL) = (attempt_at IS NULL));
