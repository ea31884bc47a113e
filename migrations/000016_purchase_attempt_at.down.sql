ALTER TABLE purchases DROP COLUMN attempt_at;
