-- Rows a top-up's refusal wrote stay; the old check is not applied to them.
ALTER TABLE payment_rejections
    DROP CONSTRAINT payment_rejections_source_check,
    ADD CONSTRAINT payment_rejections_source_check
        CHECK (source IN ('webhook', 'confirm', 'reconcile', 'return')) NOT VALID;
DROP INDEX IF EXISTS payment_rejections_charged_idx;
ALTER TABLE payment_rejections DROP COLUMN IF EXISTS buyer_charged;
