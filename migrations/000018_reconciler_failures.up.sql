-- How many purchases each reconciler run recorded a failed payment on
-- because no payment.failed webhook had (ledger.ReconcilerRun.Failures):
-- a bank payment that failed while the app was down. Counted when the run
-- finishes, beside payments_seen.
ALTER TABLE reconciler_runs
    ADD COLUMN failures_recorded integer NOT NULL DEFAULT 0 CHECK (failures_recorded >= 0);
