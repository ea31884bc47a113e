-- The buyer's Whop username, as the buyer's own payment names it, so the
-- creator's receipts name members the way Whop shows them, not by user id.
-- Empty until a payment of the purchase's buyer has been seen.
ALTER TABLE purchases ADD COLUMN buyer_username text NOT NULL DEFAULT '';
