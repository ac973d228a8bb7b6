ALTER TABLE payment_codes DROP COLUMN reserved_shop_id;
