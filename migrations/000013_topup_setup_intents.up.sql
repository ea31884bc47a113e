-- Every setup intent a member's saved top-up method came from, kept once.
-- A setup reaches the app twice (the modal's answer and the
-- setup_intent.succeeded webhook), and Whop redelivers a webhook it could
-- not deliver for hours: by then the member may have saved another card.
-- topup_methods holds only the latest setup, so the late delivery of an
-- older one looked new and put the replaced card back (and turned back on
-- a rule declines had turned off). A setup recorded here is never applied
-- again.
CREATE TABLE topup_setup_intents (
    id        text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 100),
    wallet_id bigint      NOT NULL REFERENCES wallets (id),
    saved_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO topup_setup_intents (id, wallet_id, saved_at)
SELECT setup_intent_id, wallet_id, saved_at FROM topup_methods
ON CONFLICT (id) DO NOTHING;
