-- When Whop reported the status a dispute row holds: the time of the v1
-- dispute.created or dispute.updated event that carried it (NULL when the
-- delivery had none, a legacy one, or the row is from before this column).
-- ledger.RecordDispute keeps a dispute's status from going back along its
-- life, and within one stage keeps the report Whop made later.
ALTER TABLE disputes ADD COLUMN reported_at timestamptz;
