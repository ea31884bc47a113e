-- Whop's time of the latest report of a dispute kept that carried one: the
-- timestamp of the v1 dispute.created or dispute.updated event (a legacy
-- delivery has none, and a report of no time that stands keeps it). NULL
-- when none did, or the row is from before this column.
-- ledger.RecordDispute keeps a dispute's status from going back along its
-- life, and within one stage keeps the report Whop made later.
ALTER TABLE disputes ADD COLUMN reported_at timestamptz;
