-- Household cards (户卡) for villagers without a smartphone: a printed QR token and a
-- PIN, both stored only as keyed hashes; wrong PINs lock the card.
CREATE TABLE household_cards (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    serial TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    pin_hash TEXT NOT NULL,
    failures INTEGER NOT NULL,
    failure_day DATE,
    day_failures INTEGER NOT NULL,
    locked_until TIMESTAMP,
    held BOOLEAN NOT NULL,
    created_by BIGINT NOT NULL REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX household_cards_household ON household_cards (household_id);

ALTER TABLE redemptions ADD COLUMN card_id BIGINT REFERENCES household_cards (id);
