-- A scan reserves a payment code for the shop that scanned it (as Alipay and WeChat Pay
-- do): until its (then lengthened) expiry only that shop may redeem it, and the
-- villager's page stops renewing it, so a checkout never loses its code.
ALTER TABLE payment_codes ADD COLUMN reserved_shop_id BIGINT REFERENCES shops (id);
