DROP INDEX IF EXISTS payment_rejections_purchase_idx;
