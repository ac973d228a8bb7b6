ALTER TABLE redemptions DROP COLUMN card_id;
DROP TABLE household_cards;
