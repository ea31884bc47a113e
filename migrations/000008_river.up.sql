-- Background work moves to River (github.com/riverqueue/river), whose own
-- schema (river_job and friends) is migrated beside this one, before it, by
-- its embedded migrator (see migrations.Up). The hand-written jobs table goes.
--
-- What was still waiting in it is carried over where it matters: a payout or
-- revenue-share job whose row is still pending becomes a River job of the
-- same kind and arguments, due when it was due, with the attempts it had
-- made and its last error. Its unique key is left empty: each of those rows
-- gets exactly one job, when it is recorded, so nothing will ask for it
-- again. A waiting reconcile job is dropped: the reconciler is periodic and
-- River's leader schedules the next run.
INSERT INTO river_job (state, attempt, max_attempts, scheduled_at, created_at, args, kind, queue, priority, errors)
SELECT CASE WHEN j.run_at <= now() THEN 'available' ELSE 'scheduled' END::river_job_state,
       LEAST(j.attempts, 32000), LEAST(GREATEST(j.max_attempts, j.attempts + 1), 32000), j.run_at, j.created_at,
       j.args, j.kind, 'default', 1,
       CASE WHEN j.last_error = '' THEN NULL
            ELSE ARRAY[jsonb_build_object('at', j.updated_at, 'attempt', j.attempts, 'error', j.last_error,
                                          'trace', '')] END
  FROM jobs j
 WHERE j.state = 'available'
   AND ((j.kind = 'payout' AND EXISTS (
            SELECT 1 FROM payouts p WHERE p.id = j.args->>'payout_id' AND p.status = 'pending'))
     OR (j.kind = 'revenue_share' AND EXISTS (
            SELECT 1 FROM revenue_shares s WHERE s.payment_id = j.args->>'payment_id' AND s.status = 'pending')));

DROP TABLE jobs;

-- One reconciler run at a time, across every replica. River's leader
-- enqueues one job per period, but a run can outlast its period; the run
-- row is what says a run is going. A live run beats every few seconds
-- (heartbeat_at); one whose process died stops beating, and the next run
-- closes it as abandoned before it starts (ledger.StartReconcilerRun). The
-- index makes two unfinished runs impossible, whoever races to start.
ALTER TABLE reconciler_runs ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
UPDATE reconciler_runs SET finished_at = now(), error = 'abandoned: its process stopped before it finished'
 WHERE finished_at IS NULL;
CREATE UNIQUE INDEX reconciler_runs_one_running_idx ON reconciler_runs ((true)) WHERE finished_at IS NULL;
