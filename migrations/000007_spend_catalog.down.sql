-- Back to a catalog in the schema: the items 000001 seeded, plus every item
-- a recorded spend names (with the title and cost of its latest spend), so
-- the foreign key holds again.
CREATE TABLE spend_items (
    id          text    PRIMARY KEY CHECK (id ~ '^[a-z0-9_-]{1,32}$'),
    name        text    NOT NULL,
    description text    NOT NULL,
    cost        bigint  NOT NULL CHECK (cost > 0),
    position    integer NOT NULL DEFAULT 0
);
INSERT INTO spend_items (id, name, description, cost, position) VALUES
    ('sticker', 'Sticker pack', 'A pack of animated stickers for the chat.', 5, 1),
    ('boost', 'Profile boost', 'Pin your profile to the top of the member list for a day.', 20, 2),
    ('review', 'Expert review', 'A written review of your work by the creator.', 50, 3);
INSERT INTO spend_items (id, name, description, cost, position)
SELECT DISTINCT ON (item_id) item_id, title, '', cost, 100
  FROM spends
 WHERE item_id NOT IN (SELECT id FROM spend_items)
 ORDER BY item_id, id DESC;

ALTER TABLE spends
    DROP CONSTRAINT spends_item_id_check,
    ADD CONSTRAINT spends_item_id_fkey FOREIGN KEY (item_id) REFERENCES spend_items (id),
    DROP COLUMN title;
