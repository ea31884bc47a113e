-- What credits buy moves out of the schema into configuration (SPEND_ITEMS):
-- the app owner changes the catalog with no migration. A spend already
-- records its cost; it now records its title too, so repricing, renaming or
-- removing an item never rewrites what a member bought.

ALTER TABLE spends ADD COLUMN title text;
UPDATE spends s SET title = i.name FROM spend_items i WHERE i.id = s.item_id;
ALTER TABLE spends
    ALTER COLUMN title SET NOT NULL,
    ADD CONSTRAINT spends_title_check CHECK (length(title) BETWEEN 1 AND 200),
    DROP CONSTRAINT spends_item_id_fkey,
    ADD CONSTRAINT spends_item_id_check CHECK (item_id ~ '^[a-z0-9_-]{1,32}$');

DROP TABLE spend_items;
