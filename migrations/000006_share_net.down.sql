-- Jobs keep the attempts they were given; only new ones get the old default.
ALTER TABLE jobs ALTER COLUMN max_attempts SET DEFAULT 20;

DROP TRIGGER IF EXISTS revenue_shares_net_check ON revenue_shares;
DROP FUNCTION IF EXISTS revenue_shares_net_check();
DROP TRIGGER IF EXISTS revenue_shares_guard ON revenue_shares;
-- 000005 knows no 'cancelled': such a share (nothing sent, final) becomes a
-- failed one that says why.
UPDATE revenue_shares SET status = 'failed', last_error = 'cancelled: refunded in full before it was paid'
 WHERE status = 'cancelled';
ALTER TABLE revenue_shares
    DROP CONSTRAINT IF EXISTS revenue_shares_cancelled_check,
    DROP CONSTRAINT IF EXISTS revenue_shares_attempted_amount_check,
    DROP CONSTRAINT IF EXISTS revenue_shares_transfer_amount_check,
    DROP CONSTRAINT revenue_shares_status_check,
    ADD CONSTRAINT revenue_shares_status_check CHECK (status IN ('pending', 'paid', 'failed')),
    DROP COLUMN IF EXISTS transfer_amount;
CREATE TRIGGER revenue_shares_guard
    BEFORE UPDATE OR DELETE ON revenue_shares
    FOR EACH ROW EXECUTE FUNCTION money_row_guard(
        'status', 'transfer_id', 'charged_fee', 'attempts', 'last_error', 'updated_at', 'finished_at');
