-- A member's receipts and the creator's dashboard tell a purchase that a
-- payment charged its buyer for but the app refused (it did not match the
-- purchase, or was disputed before it was credited) from one nobody paid.
--
-- Not every refusal charged the purchase's buyer: a payment another user
-- made on the purchase's checkout, one received by another company, or one
-- read before it was paid (a confirm call once refused a pending payment)
-- charged them nothing. Each refusal says whether it did (buyer_charged,
-- set by the app as it refuses; rows from before are read from their
-- reasons once, here), and the pages look up only those, by purchase, on
-- every load of the member's page.
ALTER TABLE payment_rejections ADD COLUMN buyer_charged boolean NOT NULL DEFAULT false;

UPDATE payment_rejections SET buyer_charged = true
 WHERE purchase_id <> ''
   AND reason NOT LIKE 'payment status is %'
   AND reason NOT IN ('payment user is not the purchase''s user', 'payment belongs to another company',
                      'metadata names an unknown purchase');

CREATE INDEX payment_rejections_charged_idx ON payment_rejections (purchase_id, id) WHERE buyer_charged;

-- The auto top-up's charge job refuses a payment too (source 'topup'),
-- which the first schema did not allow: the refusal failed, and the job
-- retried it instead of declining the top-up.
ALTER TABLE payment_rejections
    DROP CONSTRAINT payment_rejections_source_check,
    ADD CONSTRAINT payment_rejections_source_check
        CHECK (source IN ('webhook', 'confirm', 'reconcile', 'return', 'topup'));
