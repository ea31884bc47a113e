-- A member's receipts and the creator's dashboard tell a purchase that a
-- payment paid but the app refused (it did not match the purchase) from
-- one nobody paid: they look its rejections up by purchase, on every load
-- of the member's page.
CREATE INDEX payment_rejections_purchase_idx ON payment_rejections (purchase_id);
