-- Granted credits that expire, and the money of each refund.
--
-- A company's admin (or the app owner's) grants credits to a member, with a
-- reason and perhaps an expiry. The grant is one row of credit_grants,
-- written in the transaction of its 'grant' ledger entry, and carries the
-- whole life of those credits: how many were spent and, once its expiry job
-- has run, how many expired (with the 'expiry' entry that took them).
--
-- Which credits a spend uses is the database's rule, applied as each
-- 'spend' entry is appended (ledger_entries_allocate_spend below): the
-- grants that expire soonest first, then grants that never expire, then the
-- rest of the balance (bought credits and premium credits), which no
-- grant counts. Free credits before paid ones, as Orb orders by cost basis.
--
-- Why a refund and an expiry never take the same credit twice: every credit
-- of a wallet is either a grant's (counted by that grant) or the rest's.
-- A refund takes back the credits of its purchase, which are the rest's: it
-- touches no grant's counters (and may leave the rest, so the balance,
-- negative). An expiry takes exactly credits - spent of its grant, the part
-- of that grant nobody spent, and nothing of the rest. So each credit leaves
-- at most once, and the database holds each grant to
-- spent + expired <= credits.

-- An expiry is its own kind of ledger entry, always a debit. NOT VALID then
-- VALIDATE: the check of existing rows takes no lock that stops writers.
ALTER TABLE ledger_entries
    DROP CONSTRAINT ledger_entries_kind_check,
    ADD CONSTRAINT ledger_entries_kind_check
        CHECK (kind IN ('purchase', 'spend', 'refund', 'grant', 'adjustment', 'expiry')) NOT VALID,
    DROP CONSTRAINT ledger_entries_check,
    ADD CONSTRAINT ledger_entries_check
        CHECK (CASE kind
                   WHEN 'purchase' THEN amount > 0
                   WHEN 'grant' THEN amount > 0
                   WHEN 'spend' THEN amount < 0
                   WHEN 'refund' THEN amount < 0
                   WHEN 'expiry' THEN amount < 0
                   ELSE true
               END) NOT VALID;
ALTER TABLE ledger_entries VALIDATE CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries VALIDATE CONSTRAINT ledger_entries_check;

CREATE TABLE credit_grants (
    id                 text        PRIMARY KEY CHECK (id ~ '^grt_[0-9A-Za-z]{1,64}$'),
    wallet_id          bigint      NOT NULL REFERENCES wallets (id),
    experience_id      text        NOT NULL CHECK (experience_id LIKE 'exp\_%'),
    user_id            text        NOT NULL CHECK (user_id LIKE 'user\_%'),
    -- The member's Whop username when granted, for the dashboards.
    username           text        NOT NULL DEFAULT '',
    -- The experience's company: whose dashboard lists the grant.
    company_id         text        NOT NULL CHECK (company_id LIKE 'biz\_%'),
    credits            bigint      NOT NULL CHECK (credits > 0),
    spent              bigint      NOT NULL DEFAULT 0 CHECK (spent >= 0),
    expired            bigint      CHECK (expired >= 0),
    reason             text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    expires_at         timestamptz,
    -- The admin who granted, and the company they administer (the
    -- experience's, or the app owner's).
    granted_by         text        NOT NULL CHECK (granted_by LIKE 'user\_%'),
    granted_by_company text        NOT NULL CHECK (granted_by_company LIKE 'biz\_%'),
    idempotency_key    text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    ledger_entry_id    bigint      NOT NULL UNIQUE REFERENCES ledger_entries (id),
    expiry_entry_id    bigint      UNIQUE REFERENCES ledger_entries (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    expired_at         timestamptz,
    UNIQUE (granted_by, idempotency_key),
    -- A grant cannot be born expired.
    CHECK (expires_at > created_at),
    -- The invariant: no credit of a grant is both spent and expired.
    CHECK (spent + COALESCE(expired, 0) <= credits),
    -- Expired once, by its job, after its time, taking exactly what was left.
    CHECK ((expired_at IS NULL) = (expired IS NULL)),
    CHECK (expired_at IS NULL OR (expired_at >= expires_at AND spent + expired = credits)),
    CHECK ((expiry_entry_id IS NOT NULL) = (COALESCE(expired, 0) > 0))
);
-- The spend trigger reads a wallet's live grants on every spend.
CREATE INDEX credit_grants_live_idx ON credit_grants (wallet_id, expires_at, id) WHERE expired_at IS NULL;
CREATE INDEX credit_grants_company_idx ON credit_grants (company_id, created_at DESC);
CREATE INDEX credit_grants_expired_idx ON credit_grants (company_id, expired_at) WHERE expired_at IS NOT NULL;
-- What expires when (expiry sweeps, reminders before expiry).
CREATE INDEX credit_grants_expiring_idx ON credit_grants (expires_at) WHERE expired_at IS NULL;

-- Which spend used which grant's credits, and how many.
CREATE TABLE grant_spends (
    ledger_entry_id bigint NOT NULL REFERENCES ledger_entries (id),
    grant_id        text   NOT NULL REFERENCES credit_grants (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    PRIMARY KEY (ledger_entry_id, grant_id)
);
CREATE INDEX grant_spends_grant_idx ON grant_spends (grant_id);

CREATE FUNCTION append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER grant_spends_append_only
    BEFORE UPDATE OR DELETE ON grant_spends
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER grant_spends_no_truncate
    BEFORE TRUNCATE ON grant_spends
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER credit_grants_no_truncate
    BEFORE TRUNCATE ON credit_grants
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- A grant is exactly its ledger entries: a 'grant' of its credits into its
-- wallet, and, once expired with something left, an 'expiry' of that much
-- out of the same wallet. Once written, only the counters move: spent only
-- up, and the expiry once. A grant is never deleted.
CREATE FUNCTION credit_grants_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'credit_grants is money history (DELETE refused)' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
         WHERE e.id = NEW.ledger_entry_id AND e.kind = 'grant' AND e.amount = NEW.credits
           AND e.wallet_id = NEW.wallet_id AND w.user_id = NEW.user_id AND w.experience_id = NEW.experience_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'credit grant % does not match ledger entry %', NEW.id, NEW.ledger_entry_id
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.spent <> 0 OR NEW.expired IS NOT NULL THEN
            RAISE EXCEPTION 'credit grant % must start unspent', NEW.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF (to_jsonb(NEW) - ARRAY['spent', 'expired', 'expired_at', 'expiry_entry_id'])
       IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['spent', 'expired', 'expired_at', 'expiry_entry_id']) THEN
        RAISE EXCEPTION 'credit grant %: only spent and the expiry may change', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.spent < OLD.spent THEN
        RAISE EXCEPTION 'credit grant %: spent cannot go down (% to %)', OLD.id, OLD.spent, NEW.spent
            USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.expired_at IS NOT NULL AND (NEW.expired_at IS DISTINCT FROM OLD.expired_at
       OR NEW.expired IS DISTINCT FROM OLD.expired OR NEW.expiry_entry_id IS DISTINCT FROM OLD.expiry_entry_id) THEN
        RAISE EXCEPTION 'credit grant % expired already', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.expiry_entry_id IS NOT NULL AND OLD.expiry_entry_id IS NULL THEN
        PERFORM 1 FROM ledger_entries e
         WHERE e.id = NEW.expiry_entry_id AND e.kind = 'expiry' AND e.amount = -NEW.expired
           AND e.wallet_id = NEW.wallet_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'credit grant % does not match its expiry entry %', NEW.id, NEW.expiry_entry_id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER credit_grants_guard
    BEFORE INSERT OR UPDATE OR DELETE ON credit_grants
    FOR EACH ROW EXECUTE FUNCTION credit_grants_guard();

-- The consumption order, applied to every spend entry as it is appended.
--
-- The spender holds its wallet's row lock (the debit updated it), and so
-- does whoever grants into or expires from that wallet, so the grants read
-- here cannot change under it. This function's statements each take a
-- fresh snapshot (PL/pgSQL, READ COMMITTED): an expiry that committed while
-- the spend waited for the lock is seen here, even though the debit's own
-- statement began before it.
--
-- The debit (ledger.spendSQL) already refused to count credits of grants
-- past their expiry whose job has not yet run; the last check makes that
-- the database's rule too: what the live grants do not cover must come from
-- the rest of the balance, never from credits due to expire.
CREATE FUNCTION ledger_entries_allocate_spend() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    need    bigint := -NEW.amount;
    before  bigint := NEW.balance_after - NEW.amount;
    live    bigint;
    overdue bigint;
    g       record;
    take    bigint;
BEGIN
    PERFORM 1 FROM wallets WHERE id = NEW.wallet_id FOR UPDATE;
    SELECT COALESCE(sum(credits - spent) FILTER (WHERE expires_at IS NULL OR expires_at > now()), 0),
           COALESCE(sum(credits - spent) FILTER (WHERE expires_at <= now()), 0)
      INTO live, overdue
      FROM credit_grants WHERE wallet_id = NEW.wallet_id AND expired_at IS NULL;
    IF live > 0 THEN
        FOR g IN SELECT id, credits - spent AS left_over FROM credit_grants
                  WHERE wallet_id = NEW.wallet_id AND expired_at IS NULL AND spent < credits
                    AND (expires_at IS NULL OR expires_at > now())
                  ORDER BY expires_at NULLS LAST, id
        LOOP
            EXIT WHEN need = 0;
            take := LEAST(need, g.left_over);
            INSERT INTO grant_spends (ledger_entry_id, grant_id, amount) VALUES (NEW.id, g.id, take);
            UPDATE credit_grants SET spent = spent + take WHERE id = g.id;
            need := need - take;
        END LOOP;
    END IF;
    IF need > GREATEST(before - live - overdue, 0) THEN
        RAISE EXCEPTION 'spend entry % would take % credits of grants past their expiry', NEW.id, need - GREATEST(before - live - overdue, 0)
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_allocate_spend
    AFTER INSERT ON ledger_entries
    FOR EACH ROW WHEN (NEW.kind = 'spend')
    EXECUTE FUNCTION ledger_entries_allocate_spend();

-- Each change of a purchase's refunded amount or credits, with the money
-- and credits it added: the money of each refund entry, which the ledger
-- (credits only) and the purchase (running totals only) do not keep. The
-- refund entry it goes with is the one keyed refund:<purchase>:<credits
-- after>; a change of money alone (a refund too small to take a credit
-- more) has none. Kept by a trigger, so whatever settles a refund keeps it.
CREATE TABLE purchase_refunds (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purchase_id      text        NOT NULL REFERENCES purchases (id),
    amount           bigint      NOT NULL CHECK (amount >= 0),
    credits          bigint      NOT NULL CHECK (credits >= 0),
    refunded_credits bigint      NOT NULL CHECK (refunded_credits >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (amount > 0 OR credits > 0)
);
CREATE INDEX purchase_refunds_purchase_idx ON purchase_refunds (purchase_id);
CREATE INDEX purchase_refunds_created_idx ON purchase_refunds (created_at);
CREATE TRIGGER purchase_refunds_append_only
    BEFORE UPDATE OR DELETE ON purchase_refunds
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER purchase_refunds_no_truncate
    BEFORE TRUNCATE ON purchase_refunds
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

CREATE FUNCTION purchases_log_refund() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO purchase_refunds (purchase_id, amount, credits, refunded_credits)
    VALUES (NEW.id, GREATEST(NEW.refunded_amount - OLD.refunded_amount, 0),
            GREATEST(NEW.refunded_credits - OLD.refunded_credits, 0), NEW.refunded_credits);
    RETURN NULL;
END;
$$;
CREATE TRIGGER purchases_log_refund
    AFTER UPDATE OF refunded_amount, refunded_credits ON purchases
    FOR EACH ROW WHEN (NEW.refunded_amount > OLD.refunded_amount OR NEW.refunded_credits > OLD.refunded_credits)
    EXECUTE FUNCTION purchases_log_refund();

-- Refunds settled before this migration: one row per refund entry, dated
-- as the entry. Only the running total of their money was kept, so the
-- purchase's newest refund carries all of it (the earlier ones none); a
-- purchase with money refunded and no credit taken back gets one row.
INSERT INTO purchase_refunds (purchase_id, amount, credits, refunded_credits, created_at)
SELECT p.id,
       CASE WHEN r.total = p.refunded_credits THEN p.refunded_amount ELSE 0 END,
       -e.amount, r.total, e.created_at
  FROM ledger_entries e
  CROSS JOIN LATERAL (SELECT split_part(e.idempotency_key, ':', 2) AS purchase_id,
                             split_part(e.idempotency_key, ':', 3)::bigint AS total) r
  JOIN purchases p ON p.id = r.purchase_id
 WHERE e.kind = 'refund' AND e.idempotency_key ~ '^refund:pur_[0-9A-Za-z]+:[0-9]+$'
 ORDER BY e.id;
INSERT INTO purchase_refunds (purchase_id, amount, credits, refunded_credits, created_at)
SELECT p.id, p.refunded_amount, 0, p.refunded_credits, p.updated_at
  FROM purchases p
 WHERE p.refunded_amount > 0
   AND NOT EXISTS (SELECT 1 FROM purchase_refunds r WHERE r.purchase_id = p.id);
