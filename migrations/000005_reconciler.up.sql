-- Each run of the reconciler: the window of Whop payments it listed and what
-- it repaired. The newest successful run's window end is where the next run
-- starts (minus an overlap), so a crash or an outage never skips a payment.
CREATE TABLE reconciler_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    payments_seen integer     NOT NULL DEFAULT 0 CHECK (payments_seen >= 0),
    credited      integer     NOT NULL DEFAULT 0 CHECK (credited >= 0),
    refunded      integer     NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    rejected      integer     NOT NULL DEFAULT 0 CHECK (rejected >= 0),
    error         text        NOT NULL DEFAULT '',
    CHECK (window_start <= window_end)
);
CREATE INDEX reconciler_runs_ok_idx ON reconciler_runs (window_end DESC) WHERE finished_at IS NOT NULL AND error = '';
