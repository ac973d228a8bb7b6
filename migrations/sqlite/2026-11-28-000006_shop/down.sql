DROP TABLE stock_movements;
DROP TABLE redemption_voids;
DROP TABLE redemption_lines;
DROP TABLE redemptions;
DROP TABLE receipt_counters;
DROP TABLE payment_codes;
DROP TABLE goods;
