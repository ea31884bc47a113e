DROP INDEX IF EXISTS webhook_deliveries_purchase_idx;
ALTER TABLE webhook_deliveries DROP COLUMN IF EXISTS purchase_id;
DROP TABLE IF EXISTS revenue_share_clawbacks;
DROP FUNCTION IF EXISTS revenue_share_clawbacks_append_only();
DROP FUNCTION IF EXISTS revenue_share_clawbacks_check();
DROP TABLE IF EXISTS revenue_shares;
DROP TABLE IF EXISTS payouts;
DROP FUNCTION IF EXISTS money_history_no_truncate();
DROP FUNCTION IF EXISTS money_row_guard();
