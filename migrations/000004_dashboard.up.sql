-- The creator dashboard: payouts from a company's Whop ledger account, the
-- revenue shared with the creator of the experience where credits were
-- bought, refunds recorded against those shares, and a link from each
-- webhook delivery to the purchase it was about.
--
-- Money history is append-only as far as the database can say so: a payout
-- or a share is written once with its amounts, may move from pending to
-- paid or failed once (recording Whop's transfer), and is never deleted.

-- money_row_guard refuses deletes, changes to a finished row, and changes to
-- any column of a pending row other than those named in the trigger's
-- arguments (the ones that record an attempt and its outcome).
CREATE FUNCTION money_row_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION '% is money history (% refused)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION '% row % is % and final', TG_TABLE_NAME, OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (to_jsonb(NEW) - TG_ARGV) IS DISTINCT FROM (to_jsonb(OLD) - TG_ARGV) THEN
        RAISE EXCEPTION '% row %: only % may change', TG_TABLE_NAME, OLD.id, array_to_string(TG_ARGV, ', ')
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION money_history_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is money history (TRUNCATE refused)', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

-- A payout is recorded, with the admin's idempotency key and the transfer
-- key Whop will see, before Whop is called. The transfer key is derived from
-- the row's id, so every retry (the request's own, the queue's) sends the
-- same key and Whop pays at most once.
CREATE TABLE payouts (
    id                 text        PRIMARY KEY CHECK (id LIKE 'po\_%'),
    company_id         text        NOT NULL CHECK (company_id LIKE 'biz\_%'),
    requested_by       text        NOT NULL CHECK (requested_by LIKE 'user\_%'),
    recipient_input    text        NOT NULL CHECK (length(recipient_input) BETWEEN 1 AND 100),
    recipient_id       text        NOT NULL CHECK (recipient_id LIKE 'user\_%'),
    recipient_username text        NOT NULL DEFAULT '',
    ledger_account_id  text        NOT NULL CHECK (ledger_account_id LIKE 'ldgr\_%'),
    amount             bigint      NOT NULL CHECK (amount > 0),
    currency           text        NOT NULL,
    -- fee is the transfer fee the ledger account reported when the payout
    -- was asked for; charged_fee is what Whop's transfer says it took.
    fee                bigint      NOT NULL CHECK (fee >= 0),
    charged_fee        bigint      CHECK (charged_fee >= 0),
    notes              text        NOT NULL DEFAULT '' CHECK (length(notes) <= 50),
    idempotency_key    text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    transfer_key       text        NOT NULL UNIQUE,
    status             text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed')),
    transfer_id        text        UNIQUE,
    attempts           integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error         text        NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    UNIQUE (company_id, idempotency_key),
    CHECK (transfer_key = 'creditkit:payout:' || id),
    CHECK ((status = 'paid') = (transfer_id IS NOT NULL)),
    CHECK ((status = 'paid') = (charged_fee IS NOT NULL)),
    CHECK ((status = 'pending') = (finished_at IS NULL))
);
CREATE INDEX payouts_company_idx ON payouts (company_id, created_at DESC);
CREATE TRIGGER payouts_guard
    BEFORE UPDATE OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION money_row_guard(
        'status', 'transfer_id', 'charged_fee', 'attempts', 'last_error', 'updated_at', 'finished_at');
CREATE TRIGGER payouts_no_truncate
    BEFORE TRUNCATE ON payouts
    FOR EACH STATEMENT EXECUTE FUNCTION money_history_no_truncate();

-- One share per fulfilled credit purchase made in another company's
-- experience, written in the same transaction as the fulfilment (with its
-- job). The rounding rule is the database's too: the share is the paid
-- amount times the basis points, divided by 10,000 and rounded down.
CREATE TABLE revenue_shares (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id      text        NOT NULL UNIQUE CHECK (payment_id LIKE 'pay\_%'),
    purchase_id     text        NOT NULL UNIQUE REFERENCES purchases (id),
    from_company_id text        NOT NULL CHECK (from_company_id LIKE 'biz\_%'),
    to_company_id   text        NOT NULL CHECK (to_company_id LIKE 'biz\_%'),
    basis_points    bigint      NOT NULL CHECK (basis_points BETWEEN 1 AND 10000),
    base_amount     bigint      NOT NULL CHECK (base_amount > 0),
    amount          bigint      NOT NULL CHECK (amount > 0),
    currency        text        NOT NULL,
    transfer_key    text        NOT NULL UNIQUE,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed')),
    transfer_id     text        UNIQUE,
    charged_fee     bigint      CHECK (charged_fee >= 0),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK (from_company_id <> to_company_id),
    CHECK (amount = base_amount * basis_points / 10000),
    CHECK (transfer_key = 'creditkit:revenue_share:' || payment_id),
    CHECK ((status = 'paid') = (transfer_id IS NOT NULL)),
    CHECK ((status = 'paid') = (charged_fee IS NOT NULL)),
    CHECK ((status = 'pending') = (finished_at IS NULL))
);
CREATE INDEX revenue_shares_to_idx ON revenue_shares (to_company_id, created_at DESC);
CREATE INDEX revenue_shares_from_idx ON revenue_shares (from_company_id, created_at DESC);
CREATE TRIGGER revenue_shares_guard
    BEFORE UPDATE OR DELETE ON revenue_shares
    FOR EACH ROW EXECUTE FUNCTION money_row_guard(
        'status', 'transfer_id', 'charged_fee', 'attempts', 'last_error', 'updated_at', 'finished_at');
CREATE TRIGGER revenue_shares_no_truncate
    BEFORE TRUNCATE ON revenue_shares
    FOR EACH STATEMENT EXECUTE FUNCTION money_history_no_truncate();

-- A refund of a purchase whose revenue was shared is recorded against the
-- share: the creator's part of the refunded money, by the share's own rule.
-- Rows only append; each brings the share's clawback up to the purchase's
-- cumulative refund, so a refund seen twice adds nothing.
CREATE TABLE revenue_share_clawbacks (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    share_id       bigint      NOT NULL REFERENCES revenue_shares (id),
    refunded_total bigint      NOT NULL CHECK (refunded_total > 0),
    amount         bigint      NOT NULL CHECK (amount > 0),
    clawback_total bigint      NOT NULL CHECK (clawback_total > 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (share_id, refunded_total),
    UNIQUE (share_id, clawback_total)
);

-- Each clawback continues its share's chain, stays within the share and
-- follows the share's rounding rule.
CREATE FUNCTION revenue_share_clawbacks_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s    revenue_shares%ROWTYPE;
    prev bigint;
BEGIN
    SELECT * INTO s FROM revenue_shares WHERE id = NEW.share_id;
    SELECT clawback_total INTO prev FROM revenue_share_clawbacks
     WHERE share_id = NEW.share_id ORDER BY clawback_total DESC LIMIT 1;
    IF COALESCE(prev, 0) + NEW.amount <> NEW.clawback_total THEN
        RAISE EXCEPTION 'clawback of share % breaks the chain: % + % <> %',
            NEW.share_id, COALESCE(prev, 0), NEW.amount, NEW.clawback_total USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.refunded_total > s.base_amount
       OR NEW.clawback_total <> NEW.refunded_total * s.basis_points / 10000 THEN
        RAISE EXCEPTION 'clawback of share % for a refund of % must be % (the share''s rule)',
            NEW.share_id, NEW.refunded_total, NEW.refunded_total * s.basis_points / 10000
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER revenue_share_clawbacks_check
    BEFORE INSERT ON revenue_share_clawbacks
    FOR EACH ROW EXECUTE FUNCTION revenue_share_clawbacks_check();
CREATE FUNCTION revenue_share_clawbacks_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'revenue_share_clawbacks is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER revenue_share_clawbacks_no_update_delete
    BEFORE UPDATE OR DELETE ON revenue_share_clawbacks
    FOR EACH ROW EXECUTE FUNCTION revenue_share_clawbacks_append_only();
CREATE TRIGGER revenue_share_clawbacks_no_truncate
    BEFORE TRUNCATE ON revenue_share_clawbacks
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_share_clawbacks_append_only();

-- Which purchase a delivery was about, so a creator sees the deliveries of
-- their own experiences' purchases (refund and dispute deliveries name their
-- own ids, not the payment's). Not a foreign key: a rejected payment may
-- name a purchase that does not exist.
ALTER TABLE webhook_deliveries ADD COLUMN purchase_id text NOT NULL DEFAULT '';
CREATE INDEX webhook_deliveries_purchase_idx ON webhook_deliveries (purchase_id, received_at DESC) WHERE purchase_id <> '';
