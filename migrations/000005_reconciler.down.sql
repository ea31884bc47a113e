DROP TABLE IF EXISTS reconciler_runs;
