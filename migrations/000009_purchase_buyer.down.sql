ALTER TABLE purchases DROP COLUMN buyer_username;
