DROP INDEX IF EXISTS reconciler_runs_one_running_idx;
ALTER TABLE reconciler_runs DROP COLUMN IF EXISTS heartbeat_at;

-- The jobs table as 000002 and 000006 left it. River's unfinished payout
-- and revenue-share jobs come back into it (River's own schema is left to
-- its migrator); a reconcile job is scheduled by the old queue itself.
CREATE TABLE jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    key          text        NOT NULL UNIQUE,
    args         jsonb       NOT NULL DEFAULT '{}',
    state        text        NOT NULL DEFAULT 'available'
                             CHECK (state IN ('available', 'completed', 'discarded')),
    attempts     integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts integer     NOT NULL DEFAULT 1000 CHECK (max_attempts > 0),
    run_at       timestamptz NOT NULL DEFAULT now(),
    last_error   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK ((state = 'available') = (finished_at IS NULL))
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state = 'available';
CREATE INDEX jobs_kind_idx ON jobs (kind, created_at DESC);

DO $$
BEGIN
    IF to_regclass('river_job') IS NOT NULL THEN
        INSERT INTO jobs (kind, key, args, attempts, max_attempts, run_at, last_error, created_at)
        SELECT kind,
               kind || ':' || CASE kind WHEN 'payout' THEN args->>'payout_id' ELSE args->>'payment_id' END,
               args, attempt, max_attempts, scheduled_at,
               COALESCE(errors[array_length(errors, 1)]->>'error', ''), created_at
          FROM river_job
         WHERE kind IN ('payout', 'revenue_share')
           AND state IN ('available', 'scheduled', 'retryable', 'running', 'pending')
        ON CONFLICT (key) DO NOTHING;
    END IF;
END;
$$;
