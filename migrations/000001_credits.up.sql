-- Credits: wallets, the append-only ledger, purchases through Whop, webhook
-- deliveries, disputes and the items credits are spent on.
--
-- The database enforces the money rules it can: a wallet's balance always
-- equals the sum of its ledger entries (checked at commit by constraint
-- triggers), ledger entries are never updated or deleted, and every external
-- id that makes a write unique is a UNIQUE column.

CREATE TABLE wallets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    experience_id text        NOT NULL CHECK (experience_id LIKE 'exp\_%'),
    user_id       text        NOT NULL CHECK (user_id LIKE 'user\_%'),
    balance       bigint      NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (experience_id, user_id)
);

CREATE TABLE ledger_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wallet_id       bigint      NOT NULL REFERENCES wallets (id),
    kind            text        NOT NULL CHECK (kind IN ('purchase', 'spend', 'refund', 'grant', 'adjustment')),
    amount          bigint      NOT NULL CHECK (amount <> 0),
    balance_after   bigint      NOT NULL,
    reference       text        NOT NULL,
    idempotency_key text        NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE kind
               WHEN 'purchase' THEN amount > 0
               WHEN 'grant' THEN amount > 0
               WHEN 'spend' THEN amount < 0
               WHEN 'refund' THEN amount < 0
               ELSE true
           END)
);
CREATE INDEX ledger_entries_wallet_idx ON ledger_entries (wallet_id, id);

-- Append-only: history is corrected with a new entry, never rewritten.
CREATE FUNCTION ledger_entries_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ledger_entries_no_update_delete
    BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
CREATE TRIGGER ledger_entries_no_truncate
    BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();

-- Each entry continues its wallet's chain: balance_after = previous + amount.
-- Together with the commit-time check below this makes
-- "balance = sum of entries" hold by induction, at O(1) cost per write.
CREATE FUNCTION ledger_entries_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prev bigint;
BEGIN
    SELECT balance_after INTO prev
      FROM ledger_entries
     WHERE wallet_id = NEW.wallet_id AND id < NEW.id
     ORDER BY id DESC LIMIT 1;
    IF COALESCE(prev, 0) + NEW.amount <> NEW.balance_after THEN
        RAISE EXCEPTION 'ledger entry for wallet % breaks the chain: % + % <> %',
            NEW.wallet_id, COALESCE(prev, 0), NEW.amount, NEW.balance_after
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER ledger_entries_chain
    BEFORE INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_chain();

-- At commit, a wallet's balance must equal its newest entry's balance_after:
-- a balance never moves without its ledger entry in the same transaction.
CREATE FUNCTION wallet_matches_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wid     bigint;
    current bigint;
    last    bigint;
BEGIN
    IF TG_TABLE_NAME = 'wallets' THEN
        wid := NEW.id;
    ELSE
        wid := NEW.wallet_id;
    END IF;
    SELECT balance INTO current FROM wallets WHERE id = wid;
    SELECT balance_after INTO last
      FROM ledger_entries WHERE wallet_id = wid ORDER BY id DESC LIMIT 1;
    IF current IS DISTINCT FROM COALESCE(last, 0) THEN
        RAISE EXCEPTION 'wallet % balance % does not match its ledger (%)', wid, current, COALESCE(last, 0)
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER wallets_match_ledger
    AFTER INSERT OR UPDATE ON wallets
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet_matches_ledger();
CREATE CONSTRAINT TRIGGER ledger_entries_match_wallet
    AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet_matches_ledger();

-- A purchase is recorded, pending, when its Whop checkout configuration is
-- made; the price is fixed then and a payment must cover it to be fulfilled.
CREATE TABLE purchases (
    id               text        PRIMARY KEY CHECK (id LIKE 'pur\_%'),
    user_id          text        NOT NULL CHECK (user_id LIKE 'user\_%'),
    experience_id    text        NOT NULL CHECK (experience_id LIKE 'exp\_%'),
    company_id       text        NOT NULL CHECK (company_id LIKE 'biz\_%'),
    package_id       text        NOT NULL,
    credits          bigint      NOT NULL CHECK (credits > 0),
    price            bigint      NOT NULL CHECK (price > 0),
    currency         text        NOT NULL,
    checkout_id      text        NOT NULL UNIQUE,
    plan_id          text        NOT NULL,
    purchase_url     text        NOT NULL DEFAULT '',
    idempotency_key  text,
    status           text        NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'processing', 'paid', 'failed')),
    payment_id       text        UNIQUE,
    paid_amount      bigint      CHECK (paid_amount >= 0),
    refunded_amount  bigint      NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    refunded_credits bigint      NOT NULL DEFAULT 0 CHECK (refunded_credits >= 0 AND refunded_credits <= credits),
    failure_reason   text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    fulfilled_at     timestamptz,
    UNIQUE (user_id, idempotency_key),
    CHECK ((status = 'paid') = (payment_id IS NOT NULL AND fulfilled_at IS NOT NULL))
);
CREATE INDEX purchases_wallet_idx ON purchases (experience_id, user_id, created_at DESC);
CREATE INDEX purchases_company_idx ON purchases (company_id, created_at DESC);

-- Every signed delivery we accepted, kept forever: its id makes a repeat a no-op.
CREATE TABLE webhook_deliveries (
    id          text        PRIMARY KEY,
    event_type  text        NOT NULL,
    scheme      text        NOT NULL CHECK (scheme IN ('standard', 'legacy')),
    company_id  text        NOT NULL DEFAULT '',
    object_id   text        NOT NULL DEFAULT '',
    outcome     text        NOT NULL,
    detail      text        NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (received_at DESC);

-- Payments we saw but would not fulfil, and why: a wrong user, a short
-- amount, another currency. Kept for the creator and for support.
CREATE TABLE payment_rejections (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id  text        NOT NULL,
    purchase_id text        NOT NULL DEFAULT '',
    source      text        NOT NULL CHECK (source IN ('webhook', 'confirm', 'reconcile', 'return')),
    reason      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (payment_id, reason)
);

CREATE TABLE disputes (
    id          text        PRIMARY KEY,
    payment_id  text        NOT NULL,
    purchase_id text        REFERENCES purchases (id),
    amount      bigint      NOT NULL CHECK (amount >= 0),
    currency    text        NOT NULL,
    status      text        NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disputes_payment_idx ON disputes (payment_id);

CREATE TABLE spend_items (
    id          text    PRIMARY KEY CHECK (id ~ '^[a-z0-9_-]{1,32}$'),
    name        text    NOT NULL,
    description text    NOT NULL,
    cost        bigint  NOT NULL CHECK (cost > 0),
    position    integer NOT NULL DEFAULT 0
);
INSERT INTO spend_items (id, name, description, cost, position) VALUES
    ('sticker', 'Sticker pack', 'A pack of animated stickers for the chat.', 5, 1),
    ('boost', 'Profile boost', 'Pin your profile to the top of the member list for a day.', 20, 2),
    ('review', 'Expert review', 'A written review of your work by the creator.', 50, 3);

-- A spend is one debit; the member's idempotency key makes a retried click
-- return the first result instead of spending twice.
CREATE TABLE spends (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wallet_id       bigint      NOT NULL REFERENCES wallets (id),
    user_id         text        NOT NULL,
    item_id         text        NOT NULL REFERENCES spend_items (id),
    cost            bigint      NOT NULL CHECK (cost > 0),
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    ledger_entry_id bigint      NOT NULL UNIQUE REFERENCES ledger_entries (id),
    balance_after   bigint      NOT NULL CHECK (balance_after >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, idempotency_key)
);
