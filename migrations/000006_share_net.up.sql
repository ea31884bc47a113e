-- A revenue share pays the creator its NET share: the share less what
-- refunds recorded against it by the time the transfer's amount is decided.
-- That amount is written once, before the first transfer attempt is sent,
-- and every retry resends exactly it (Whop refuses an idempotence key it has
-- seen with another amount). A share refunded in full before it is decided
-- sends nothing and ends 'cancelled'.

-- The guard is re-created below with the new column among those a pending
-- row may change; meanwhile the backfill may touch finished rows.
DROP TRIGGER revenue_shares_guard ON revenue_shares;

ALTER TABLE revenue_shares ADD COLUMN transfer_amount bigint;
-- Every attempt made before this migration sent the whole share.
UPDATE revenue_shares SET transfer_amount = amount WHERE attempts > 0;

ALTER TABLE revenue_shares
    DROP CONSTRAINT revenue_shares_status_check,
    ADD CONSTRAINT revenue_shares_status_check
        CHECK (status IN ('pending', 'paid', 'failed', 'cancelled')),
    -- A transfer never carries more than the share, nor nothing.
    ADD CONSTRAINT revenue_shares_transfer_amount_check
        CHECK (transfer_amount > 0 AND transfer_amount <= amount),
    -- Every attempt sent a decided amount.
    ADD CONSTRAINT revenue_shares_attempted_amount_check
        CHECK (attempts = 0 OR transfer_amount IS NOT NULL),
    -- A cancelled share never sent anything.
    ADD CONSTRAINT revenue_shares_cancelled_check
        CHECK (status <> 'cancelled' OR (transfer_amount IS NULL AND attempts = 0));

CREATE TRIGGER revenue_shares_guard
    BEFORE UPDATE OR DELETE ON revenue_shares
    FOR EACH ROW EXECUTE FUNCTION money_row_guard(
        'status', 'transfer_id', 'charged_fee', 'attempts', 'last_error', 'updated_at', 'finished_at',
        'transfer_amount');

-- revenue_shares_net_check holds the decision to the rule: the amount is set
-- once and is then the share less its clawback; a share is cancelled only
-- when the clawback is the whole share. The clawback cannot move meanwhile:
-- the row is locked FOR UPDATE by whoever decides, and a new clawback row's
-- foreign key waits for that lock.
CREATE FUNCTION revenue_shares_net_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    clawback bigint;
BEGIN
    IF OLD.transfer_amount IS NOT NULL AND NEW.transfer_amount IS DISTINCT FROM OLD.transfer_amount THEN
        RAISE EXCEPTION 'revenue share %: transfer amount % is fixed once sent', OLD.id, OLD.transfer_amount
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (OLD.transfer_amount IS NULL AND NEW.transfer_amount IS NOT NULL)
       OR (NEW.status = 'cancelled' AND OLD.status <> 'cancelled') THEN
        SELECT COALESCE(max(clawback_total), 0) INTO clawback
          FROM revenue_share_clawbacks WHERE share_id = NEW.id;
        IF COALESCE(NEW.transfer_amount, 0) <> NEW.amount - clawback THEN
            RAISE EXCEPTION 'revenue share %: the transfer must be the net share % (% less % refunded), not %',
                NEW.id, NEW.amount - clawback, NEW.amount, clawback, COALESCE(NEW.transfer_amount, 0)
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER revenue_shares_net_check
    BEFORE UPDATE ON revenue_shares
    FOR EACH ROW EXECUTE FUNCTION revenue_shares_net_check();

-- Payout and revenue-share jobs retry until Whop pays or refuses (which
-- marks the row failed): a job discarded after max_attempts would leave its
-- row pending for ever, its UNIQUE key barring a new one. Only these kinds
-- return retryable errors (the reconciler records its failures and returns
-- none), so the default is raised for all: 1,000 attempts at the queue's
-- one-hour cap is some six weeks.
ALTER TABLE jobs ALTER COLUMN max_attempts SET DEFAULT 1000;
UPDATE jobs SET max_attempts = 1000
 WHERE kind IN ('payout', 'revenue_share') AND state = 'available' AND max_attempts < 1000;
-- Jobs already given up on while their row is still pending go back to work.
UPDATE jobs j SET state = 'available', max_attempts = 1000, run_at = now(), finished_at = NULL, updated_at = now()
 WHERE j.state = 'discarded'
   AND ((j.kind = 'revenue_share' AND EXISTS (
            SELECT 1 FROM revenue_shares s WHERE s.payment_id = j.args->>'payment_id' AND s.status = 'pending'))
     OR (j.kind = 'payout' AND EXISTS (
            SELECT 1 FROM payouts p WHERE p.id = j.args->>'payout_id' AND p.status = 'pending')));
