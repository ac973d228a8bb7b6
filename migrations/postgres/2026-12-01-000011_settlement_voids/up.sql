-- A void of a redemption that was already on an approved or paid statement is carried as
-- a negative line (void_id set) on the shop's next statement, so the shop pays it back.
-- A redemption appears once as a redemption line and at most once as a void line.
ALTER TABLE settlement_lines DROP CONSTRAINT settlement_lines_redemption_id_key;
ALTER TABLE settlement_lines ADD COLUMN void_id BIGINT REFERENCES redemption_voids (id);
CREATE UNIQUE INDEX settlement_lines_redemption ON settlement_lines (redemption_id)
    WHERE void_id IS NULL;
CREATE UNIQUE INDEX settlement_lines_void ON settlement_lines (void_id)
    WHERE void_id IS NOT NULL;
