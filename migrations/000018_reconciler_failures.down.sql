ALTER TABLE reconciler_runs DROP COLUMN failures_recorded;
