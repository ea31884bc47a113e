ALTER TABLE disputes DROP COLUMN reported_at;
