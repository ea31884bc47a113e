-- Premium: the app's record of premium memberships, kept current by Whop's
-- membership webhooks, and the credits each membership is granted once per
-- billing period.
--
-- Whop's access check stays the authority on who is premium; this table is
-- the replicas' shared memory of when a membership last changed, so a cached
-- access answer older than the newest change is never trusted, on any replica.

CREATE TABLE memberships (
    id                    text        PRIMARY KEY CHECK (id LIKE 'mem\_%'),
    user_id               text        NOT NULL CHECK (user_id LIKE 'user\_%'),
    product_id            text        NOT NULL CHECK (product_id LIKE 'prod\_%'),
    plan_id               text        NOT NULL CHECK (plan_id LIKE 'plan\_%'),
    -- The experience the checkout was made in (its metadata), and that
    -- experience's company, so a creator's dashboard lists its premium
    -- members. NULL for a membership bought outside the app.
    experience_id         text        CHECK (experience_id LIKE 'exp\_%'),
    experience_company_id text        CHECK (experience_company_id LIKE 'biz\_%'),
    -- Whop adds statuses now and then; a new one must not make a webhook fail
    -- for ever, so only its shape is checked. valid is what grants access.
    status                text        NOT NULL CHECK (status ~ '^[a-z_]{1,32}$'),
    valid                 boolean     NOT NULL,
    period_start          timestamptz,
    period_end            timestamptz,
    whop_created_at       timestamptz,
    -- Whop's time of the state recorded (the membership's updated_at): a
    -- delivery carrying an older state is kept out, whatever order they come in.
    last_event_at         timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    -- When this row last changed state: what invalidates cached access answers.
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((period_start IS NULL) = (period_end IS NULL)),
    CHECK (period_end > period_start),
    CHECK (experience_company_id IS NULL OR experience_id IS NOT NULL)
);
-- The access cache asks "changed since?" for one user on every check.
CREATE INDEX memberships_user_changed_idx ON memberships (user_id, updated_at DESC);
CREATE INDEX memberships_company_idx ON memberships (experience_company_id, experience_id) WHERE valid;

-- One grant per membership and billing period, ever: the UNIQUE key is what
-- makes a repeated or reordered membership event grant nothing twice. A
-- membership without a renewal period is granted once, keyed by its start.
CREATE TABLE premium_grants (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    membership_id   text        NOT NULL REFERENCES memberships (id),
    period_start    timestamptz NOT NULL,
    period_end      timestamptz CHECK (period_end > period_start),
    user_id         text        NOT NULL,
    experience_id   text        NOT NULL,
    credits         bigint      NOT NULL CHECK (credits > 0),
    ledger_entry_id bigint      NOT NULL UNIQUE REFERENCES ledger_entries (id),
    -- The webhook delivery that granted it, recorded in the same transaction.
    delivery_id     text        REFERENCES webhook_deliveries (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (membership_id, period_start)
);

-- A grant must be exactly its ledger entry: a 'grant' of its credits into the
-- wallet of the membership's user in the grant's experience.
CREATE FUNCTION premium_grant_matches_entry() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1
       FROM ledger_entries e
       JOIN wallets w ON w.id = e.wallet_id
       JOIN memberships m ON m.id = NEW.membership_id
      WHERE e.id = NEW.ledger_entry_id
        AND e.kind = 'grant'
        AND e.amount = NEW.credits
        AND w.user_id = NEW.user_id
        AND w.experience_id = NEW.experience_id
        AND m.user_id = NEW.user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'premium grant % does not match ledger entry %', NEW.id, NEW.ledger_entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER premium_grants_match_entry
    BEFORE INSERT OR UPDATE ON premium_grants
    FOR EACH ROW EXECUTE FUNCTION premium_grant_matches_entry();
