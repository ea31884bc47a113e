-- Back to grants that name no payment. The refund entries taken back stay
-- in the ledger, which is append-only and whose balances they are part of;
-- reads from before this migration show them as refunds of no purchase.
DROP TRIGGER IF EXISTS premium_grants_guard ON premium_grants;
DROP FUNCTION IF EXISTS premium_grants_guard();
ALTER TABLE premium_grants
    DROP CONSTRAINT IF EXISTS premium_grants_refund_paid_check,
    DROP CONSTRAINT IF EXISTS premium_grants_refunded_credits_check,
    DROP COLUMN IF EXISTS refunded_credits,
    DROP COLUMN IF EXISTS refunded_amount,
    DROP COLUMN IF EXISTS payment_id;
