DROP INDEX goods_shop_barcode;
ALTER TABLE goods DROP COLUMN barcode;
