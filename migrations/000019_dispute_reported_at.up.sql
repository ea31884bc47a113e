-- When Whop reported the status a dispute row holds: the time of the
-- dispute.created or dispute.updated event that carried it. Deliveries
-- arrive in any order, so a late dispute.created must not take a lost
-- dispute back to needs_response (ledger.RecordDispute keeps the later
-- report; at the same time, the one further along the dispute's life).
-- NULL on rows recorded before this column, whose time is unknown.
ALTER TABLE disputes ADD COLUMN reported_at timestamptz;
