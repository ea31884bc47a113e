-- Durable background work: everything that calls Whop after a request has
-- answered (revenue-share transfers, payout retries, reconciliation) is a
-- row here, inserted in the same transaction as the fact that needs it.
-- Workers on any replica claim due rows with FOR UPDATE SKIP LOCKED; the
-- UNIQUE key makes enqueueing idempotent, and it doubles as the scheduler
-- for periodic work (one key per period: whichever replica inserts first).
CREATE TABLE jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    key          text        NOT NULL UNIQUE,
    args         jsonb       NOT NULL DEFAULT '{}',
    state        text        NOT NULL DEFAULT 'available'
                             CHECK (state IN ('available', 'completed', 'discarded')),
    attempts     integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts integer     NOT NULL DEFAULT 20 CHECK (max_attempts > 0),
    run_at       timestamptz NOT NULL DEFAULT now(),
    last_error   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK ((state = 'available') = (finished_at IS NULL))
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state = 'available';
CREATE INDEX jobs_kind_idx ON jobs (kind, created_at DESC);
