-- Whop delivers webhooks in any order, and a checkout can see several
-- payments (a declined card, then another). A purchase keeps the payment
-- whose state last made it processing or failed, and Whop's time of that
-- state (the payment's updated_at), so a late state can be told from a
-- new one: a payment.pending after the same payment's payment.failed, or a
-- declined card's payment.failed while another payment of the purchase is
-- under way, changes nothing (ledger.MarkPurchase). NULL until a state of
-- a known payment and time is recorded (every purchase before this
-- migration, and a top-up's own marks, which have their own rule).
ALTER TABLE purchases
    ADD COLUMN attempt_payment_id text,
    ADD COLUMN attempt_at timestamptz,
    ADD CONSTRAINT purchases_attempt_check CHECK ((attempt_payment_id IS NULL) = (attempt_at IS NULL));
