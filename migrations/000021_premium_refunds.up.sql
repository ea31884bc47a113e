-- A refund or a lost dispute of a premium payment takes back the credits of
-- the billing period that payment paid for, in proportion to the part of it
-- given back, rounded up, as a refund of a credit purchase does; the balance
-- may go below zero that way. So a period's grant now names the payment that
-- paid for it, and keeps what of that payment was given back and how many
-- of its credits were taken back, both running totals that only grow: a
-- reversal seen again (a webhook delivered twice, the reconciler, a retry)
-- finds them there and takes nothing more.
--
-- payment_id is set by the app when it sees a premium payment made within
-- the period (ledger.RecordPremiumPayment): its own webhook, a refund or
-- dispute of it re-read from Whop, or the reconciler. NULL until then; a
-- period is usually granted by the membership's webhook before its payment
-- arrives. A payment pays one period (UNIQUE), and a grant once tied to a
-- payment stays tied to it.
--
-- Each take-back is a 'refund' ledger entry of the difference, in the
-- grant's wallet, referencing the payment (as a purchase's refund entry
-- does) and keyed premium_refund:<grant id>:<refunded_credits after>.
-- Premium credits are the rest of the balance, not a credit_grants grant:
-- the take-back touches no grant's spent or expired, so a refund and an
-- expiry never take the same credit twice.
ALTER TABLE premium_grants
    ADD COLUMN payment_id       text   UNIQUE CHECK (length(payment_id) BETWEEN 1 AND 100),
    ADD COLUMN refunded_amount  bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    ADD COLUMN refunded_credits bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT premium_grants_refunded_credits_check CHECK (refunded_credits BETWEEN 0 AND credits),
    ADD CONSTRAINT premium_grants_refund_paid_check CHECK (payment_id IS NOT NULL OR (refunded_amount = 0 AND refunded_credits = 0));

-- Take-backs already in the ledger (this migration undone, then applied
-- again: the entries stay, being append-only) are a grant's again: its
-- payment is their reference, and what was taken back their key's total.
-- The money refunded is not kept in the ledger; the next sighting of the
-- payment records it, taking nothing more.
UPDATE premium_grants g
   SET payment_id = r.payment_id, refunded_credits = r.taken
  FROM (SELECT split_part(e.idempotency_key, ':', 2)::bigint AS grant_id,
               max(split_part(e.idempotency_key, ':', 3)::bigint) AS taken, min(e.reference) AS payment_id
          FROM ledger_entries e
         WHERE e.kind = 'refund' AND e.idempotency_key ~ '^premium_refund:[0-9]{1,18}:[0-9]{1,18}$'
         GROUP BY 1) r
 WHERE g.id = r.grant_id;

-- A grant made by a premium payment's own webhook (premium_grants.delivery_id
-- names a payment.succeeded delivery, whose object is the payment) was that
-- payment's period: the app granted the membership's current period as Whop
-- reported it then. Other grants before this migration stay unlinked, and a
-- reversal finds them by time. Should one payment's delivery have granted
-- two periods, its earliest is the one it is tied to.
UPDATE premium_grants g
   SET payment_id = l.payment_id
  FROM (SELECT DISTINCT ON (d.object_id) pg.id, d.object_id AS payment_id
          FROM premium_grants pg
          JOIN webhook_deliveries d ON d.id = pg.delivery_id
         WHERE d.event_type IN ('payment.succeeded', 'app_payment.succeeded')
           AND length(d.object_id) BETWEEN 1 AND 100 AND pg.payment_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM premium_grants x WHERE x.payment_id = d.object_id)
         ORDER BY d.object_id, pg.period_start, pg.id) l
 WHERE g.id = l.id;

-- Once written, a grant changes only by being tied to its payment (once)
-- and by taking credits back (only more, each with its refund entry).
CREATE FUNCTION premium_grants_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - ARRAY['payment_id', 'refunded_amount', 'refunded_credits'])
       IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['payment_id', 'refunded_amount', 'refunded_credits']) THEN
        RAISE EXCEPTION 'premium grant %: only its payment and what was taken back may change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.payment_id IS NOT NULL AND NEW.payment_id IS DISTINCT FROM OLD.payment_id THEN
        RAISE EXCEPTION 'premium grant % is paid for by %, not %', OLD.id, OLD.payment_id, NEW.payment_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.refunded_amount < OLD.refunded_amount OR NEW.refunded_credits < OLD.refunded_credits THEN
        RAISE EXCEPTION 'premium grant %: what was taken back cannot go down', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.refunded_credits > OLD.refunded_credits THEN
        PERFORM 1 FROM ledger_entries e JOIN ledger_entries g ON g.id = NEW.ledger_entry_id
         WHERE e.idempotency_key = 'premium_refund:' || NEW.id || ':' || NEW.refunded_credits
           AND e.kind = 'refund' AND e.amount = OLD.refunded_credits - NEW.refunded_credits
           AND e.wallet_id = g.wallet_id AND e.reference = NEW.payment_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'premium grant %: % credits taken back without their refund entry', OLD.id,
                NEW.refunded_credits - OLD.refunded_credits USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER premium_grants_guard
    BEFORE UPDATE ON premium_grants
    FOR EACH ROW EXECUTE FUNCTION premium_grants_guard();
