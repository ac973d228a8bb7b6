DELETE FROM settlement_lines WHERE void_id IS NOT NULL;
DROP INDEX settlement_lines_void;
DROP INDEX settlement_lines_redemption;
ALTER TABLE settlement_lines DROP COLUMN void_id;
ALTER TABLE settlement_lines ADD CONSTRAINT settlement_lines_redemption_id_key UNIQUE (redemption_id);
