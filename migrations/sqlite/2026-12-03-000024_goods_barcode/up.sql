-- The product's own barcode (EAN-13, EAN-8 or UPC-A), so a scanner gun at the counter
-- adds the goods it reads; one product per barcode in a shop.
ALTER TABLE goods ADD COLUMN barcode TEXT;
CREATE UNIQUE INDEX goods_shop_barcode ON goods (shop_id, barcode) WHERE barcode IS NOT NULL;
