-- Auto top-up and notifications through Whop.
--
-- A member saves a payment method through a setup-mode checkout
-- (topup_methods) and sets a rule (topup_rules): when a spend takes the
-- balance from at least threshold to below it, buy the package, at most
-- daily_limit times a UTC day. The crossing is the database's to see, as
-- the spend entry is appended (ledger_entries_after_spend below), under the
-- wallet's row lock the debit holds: so two spends never both see the same
-- crossing, and the top-up, its pending purchase and its charge job are
-- written in the spend's own transaction, or not at all. A top-up is unique
-- by its crossing (the spend entry) and a wallet has at most one open
-- (scheduled or charging) at a time: a second crossing while one is under
-- way schedules nothing.
--
-- The charge job (billing) moves the top-up to charging, charges the saved
-- method off-session with the key topup:<id> and no transaction open, and
-- hands the payment to the one fulfilment function. What the purchase
-- becomes, the top-up follows (purchases_topup_outcome): paid, or
-- declined with the purchase's failure reason, the rule's run of declines
-- counted and the rule turned off at the second in a row.
--
-- Notifications: a member opts in per kind (notification_prefs). Each event
-- is one row of notifications, unique by its key, written with the fact
-- that caused it together with its River job (creditkit_notify); the job
-- sends it through Whop with the key as the Idempotency-Key and marks it
-- sent, so it goes out at most once and is retried while Whop fails.

CREATE TABLE topup_methods (
    wallet_id         bigint      PRIMARY KEY REFERENCES wallets (id),
    company_id        text        NOT NULL CHECK (company_id LIKE 'biz\_%'),
    member_id         text        NOT NULL CHECK (member_id LIKE 'mber\_%'),
    payment_method_id text        NOT NULL CHECK (length(payment_method_id) BETWEEN 1 AND 100),
    setup_intent_id   text        NOT NULL,
    card_brand        text        NOT NULL DEFAULT '',
    card_last4        text        NOT NULL DEFAULT '',
    saved_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE topup_rules (
    wallet_id       bigint      PRIMARY KEY REFERENCES wallets (id),
    threshold       bigint      NOT NULL CHECK (threshold > 0),
    package_id      text        NOT NULL CHECK (length(package_id) BETWEEN 1 AND 100),
    -- The package as it was priced when the rule was set: what a top-up buys.
    credits         bigint      NOT NULL CHECK (credits > 0),
    price           bigint      NOT NULL CHECK (price > 0),
    currency        text        NOT NULL,
    daily_limit     integer     NOT NULL CHECK (daily_limit BETWEEN 1 AND 50),
    enabled         boolean     NOT NULL DEFAULT true,
    declines_in_row integer     NOT NULL DEFAULT 0 CHECK (declines_in_row >= 0),
    disabled_reason text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (enabled OR disabled_reason <> '')
);

CREATE TABLE topups (
    id                text        PRIMARY KEY CHECK (id ~ '^tup_[0-9A-Za-z]{1,64}$'),
    wallet_id         bigint      NOT NULL REFERENCES wallets (id),
    -- The spend entry that crossed the threshold.
    crossing_entry_id bigint      NOT NULL UNIQUE REFERENCES ledger_entries (id),
    purchase_id       text        NOT NULL UNIQUE REFERENCES purchases (id),
    threshold         bigint      NOT NULL,
    member_id         text        NOT NULL,
    payment_method_id text        NOT NULL,
    status            text        NOT NULL DEFAULT 'scheduled'
                                  CHECK (status IN ('scheduled', 'charging', 'paid', 'declined', 'canceled')),
    payment_id        text,
    failure_reason    text        NOT NULL DEFAULT '',
    attempts          integer     NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'declined') = (failure_reason <> '') OR status = 'canceled')
);
-- One top-up under way per wallet.
CREATE UNIQUE INDEX topups_open_idx ON topups (wallet_id) WHERE status IN ('scheduled', 'charging');
CREATE INDEX topups_wallet_idx ON topups (wallet_id, created_at DESC);
CREATE TRIGGER topups_no_truncate
    BEFORE TRUNCATE ON topups
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

CREATE TABLE notification_prefs (
    experience_id     text        NOT NULL CHECK (experience_id LIKE 'exp\_%'),
    user_id           text        NOT NULL CHECK (user_id LIKE 'user\_%'),
    credited          boolean     NOT NULL DEFAULT false,
    low_balance       boolean     NOT NULL DEFAULT false,
    low_balance_below bigint      NOT NULL DEFAULT 0 CHECK (low_balance_below >= 0),
    topup_failed      boolean     NOT NULL DEFAULT false,
    grant_expiring    boolean     NOT NULL DEFAULT false,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (experience_id, user_id),
    CHECK (NOT low_balance OR low_balance_below > 0)
);

CREATE TABLE notifications (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           text        NOT NULL UNIQUE CHECK (length(key) BETWEEN 1 AND 200),
    kind          text        NOT NULL CHECK (kind IN ('credited', 'low_balance', 'topup_failed', 'grant_expiring')),
    experience_id text        NOT NULL CHECK (experience_id LIKE 'exp\_%'),
    user_id       text        NOT NULL CHECK (user_id LIKE 'user\_%'),
    title         text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    content       text        NOT NULL CHECK (length(content) BETWEEN 1 AND 1000),
    rest_path     text        NOT NULL DEFAULT '',
    -- What the notification is about (a grant's id for grant_expiring), so
    -- its job can tell a reminder that no longer applies.
    subject       text        NOT NULL DEFAULT '',
    send_after    timestamptz NOT NULL DEFAULT now(),
    status        text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'skipped')),
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX notifications_member_idx ON notifications (experience_id, user_id, id DESC);

-- creditkit_notify records one notification for a member who opted in to
-- its kind, and its River job (kind "notify", due at send_after), unless
-- the key was recorded before. Called by the triggers below, inside the
-- transaction of the fact.
CREATE FUNCTION creditkit_notify(p_exp text, p_user text, p_kind text, p_key text, p_title text,
                                 p_content text, p_rest_path text, p_subject text, p_send_after timestamptz)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    nid bigint;
    opted boolean;
BEGIN
    SELECT CASE p_kind WHEN 'credited' THEN credited WHEN 'low_balance' THEN low_balance
                       WHEN 'topup_failed' THEN topup_failed WHEN 'grant_expiring' THEN grant_expiring END
      INTO opted
      FROM notification_prefs WHERE experience_id = p_exp AND user_id = p_user;
    IF opted IS NOT TRUE THEN
        RETURN;
    END IF;
    INSERT INTO notifications (key, kind, experience_id, user_id, title, content, rest_path, subject, send_after)
    VALUES (p_key, p_kind, p_exp, p_user, left(p_title, 200), left(p_content, 1000), p_rest_path, p_subject,
            GREATEST(p_send_after, now()))
    ON CONFLICT (key) DO NOTHING
    RETURNING id INTO nid;
    IF nid IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, scheduled_at, tags, metadata)
    VALUES (jsonb_build_object('notification_id', nid), 'notify', 25, 1, 'default',
            CASE WHEN p_send_after > now() THEN 'scheduled' ELSE 'available' END::river_job_state,
            GREATEST(p_send_after, now()), '{}', '{}');
END;
$$;

-- Every spend entry: a crossing of the top-up threshold schedules a top-up,
-- a crossing of the low-balance line tells the member.
CREATE FUNCTION ledger_entries_after_spend() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    before   bigint := NEW.balance_after - NEW.amount;
    w        record;
    m        record;
    tid      text;
    pid      text;
    today    integer;
BEGIN
    -- One indexed read for the common case, a wallet with neither a rule
    -- nor a low-balance alert: every spend pays for it.
    SELECT wl.experience_id, wl.user_id, r.threshold, r.daily_limit, r.package_id, r.credits, r.price, r.currency,
           np.low_balance_below AS below
      INTO w
      FROM wallets wl
      LEFT JOIN topup_rules r ON r.wallet_id = wl.id AND r.enabled
      LEFT JOIN notification_prefs np ON np.experience_id = wl.experience_id AND np.user_id = wl.user_id AND np.low_balance
     WHERE wl.id = NEW.wallet_id;
    IF w.threshold IS NOT NULL AND before >= w.threshold AND NEW.balance_after < w.threshold THEN
        SELECT * INTO m FROM topup_methods WHERE wallet_id = NEW.wallet_id;
        SELECT count(*) INTO today FROM topups
         WHERE wallet_id = NEW.wallet_id AND status <> 'canceled'
           AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
        IF m.wallet_id IS NOT NULL AND today < w.daily_limit
           AND NOT EXISTS (SELECT 1 FROM topups WHERE wallet_id = NEW.wallet_id AND status IN ('scheduled', 'charging')) THEN
            tid := 'tup_' || replace(gen_random_uuid()::text, '-', '');
            pid := 'pur_' || replace(gen_random_uuid()::text, '-', '');
            -- The top-up's purchase: pending, priced by the rule, and its
            -- "checkout" is the top-up, which the off-session payment names.
            INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency,
                                   checkout_id, plan_id, idempotency_key)
            VALUES (pid, w.user_id, w.experience_id, m.company_id, w.package_id, w.credits, w.price, w.currency,
                    tid, '', 'topup:' || tid);
            INSERT INTO topups (id, wallet_id, crossing_entry_id, purchase_id, threshold, member_id, payment_method_id)
            VALUES (tid, NEW.wallet_id, NEW.id, pid, w.threshold, m.member_id, m.payment_method_id);
            INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, scheduled_at, tags, metadata)
            VALUES (jsonb_build_object('topup_id', tid), 'topup_charge', 25, 1, 'default', 'available', now(), '{}', '{}');
        END IF;
    END IF;
    IF w.below IS NOT NULL AND before >= w.below AND NEW.balance_after < w.below THEN
        PERFORM creditkit_notify(w.experience_id, w.user_id, 'low_balance', 'low_balance:' || NEW.id,
            'Your credits are running low',
            'Your balance is ' || NEW.balance_after || ' credits, below the ' || w.below || ' you asked to hear about.',
            '/activity', '', now());
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_after_spend
    AFTER INSERT ON ledger_entries
    FOR EACH ROW WHEN (NEW.kind = 'spend')
    EXECUTE FUNCTION ledger_entries_after_spend();

-- Credits that landed (a purchase, a top-up, a grant) tell the member.
CREATE FUNCTION ledger_entries_after_credit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    w record;
BEGIN
    SELECT experience_id, user_id INTO w FROM wallets WHERE id = NEW.wallet_id;
    PERFORM creditkit_notify(w.experience_id, w.user_id, 'credited', 'credited:' || NEW.idempotency_key,
        CASE NEW.kind WHEN 'grant' THEN 'You were given credits' ELSE 'Your credits arrived' END,
        NEW.amount || ' credits landed in your wallet; your balance is ' || NEW.balance_after || '.',
        '/activity', NEW.reference, now());
    RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_after_credit
    AFTER INSERT ON ledger_entries
    FOR EACH ROW WHEN (NEW.kind IN ('purchase', 'grant'))
    EXECUTE FUNCTION ledger_entries_after_credit();

-- A grant that expires reminds the member three days before (at once when
-- it expires sooner); the job skips the reminder if nothing is left then.
CREATE FUNCTION credit_grants_remind() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM creditkit_notify(NEW.experience_id, NEW.user_id, 'grant_expiring', 'grant_expiring:' || NEW.id,
        'Credits expiring soon',
        'Credits granted to you (' || NEW.reason || ') expire on ' || to_char(NEW.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC.',
        '/activity', NEW.id, NEW.expires_at - interval '3 days');
    RETURN NULL;
END;
$$;
CREATE TRIGGER credit_grants_remind
    AFTER INSERT ON credit_grants
    FOR EACH ROW WHEN (NEW.expires_at IS NOT NULL)
    EXECUTE FUNCTION credit_grants_remind();

-- What a top-up's purchase becomes, the top-up follows.
CREATE FUNCTION purchases_topup_outcome() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    w record;
    n integer;
BEGIN
    SELECT * INTO t FROM topups WHERE purchase_id = NEW.id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'paid' AND t.status <> 'paid' THEN
        UPDATE topups SET status = 'paid', failure_reason = '', payment_id = NEW.payment_id, updated_at = now()
         WHERE id = t.id;
        UPDATE topup_rules SET declines_in_row = 0, updated_at = now() WHERE wallet_id = t.wallet_id AND declines_in_row > 0;
    ELSIF NEW.status = 'failed' AND t.status IN ('scheduled', 'charging') THEN
        UPDATE topups SET status = 'declined', failure_reason = COALESCE(NULLIF(NEW.failure_reason, ''), 'declined'),
               updated_at = now()
         WHERE id = t.id;
        UPDATE topup_rules SET declines_in_row = declines_in_row + 1,
               enabled = enabled AND declines_in_row + 1 < 2,
               disabled_reason = CASE WHEN enabled AND declines_in_row + 1 >= 2
                                      THEN 'two top-ups in a row were declined; save a payment method again'
                                      ELSE disabled_reason END,
               updated_at = now()
         WHERE wallet_id = t.wallet_id
        RETURNING declines_in_row INTO n;
        SELECT experience_id, user_id INTO w FROM wallets WHERE id = t.wallet_id;
        PERFORM creditkit_notify(w.experience_id, w.user_id, 'topup_failed', 'topup_failed:' || t.id,
            'Your auto top-up failed',
            'Buying ' || NEW.credits || ' credits was declined: ' || COALESCE(NULLIF(NEW.failure_reason, ''), 'declined') ||
            CASE WHEN n >= 2 THEN ' Auto top-up is off until you save a payment method again.' ELSE '' END,
            '/activity', t.id, now());
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER purchases_topup_outcome
    AFTER UPDATE OF status ON purchases
    FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('paid', 'failed'))
    EXECUTE FUNCTION purchases_topup_outcome();
