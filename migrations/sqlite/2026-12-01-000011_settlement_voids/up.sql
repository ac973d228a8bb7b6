-- A void of a redemption that was already on an approved or paid statement is carried as
-- a negative line (void_id set) on the shop's next statement, so the shop pays it back.
-- A redemption appears once as a redemption line and at most once as a void line.
CREATE TABLE settlement_lines_v2 (
    id INTEGER PRIMARY KEY,
    settlement_id BIGINT NOT NULL REFERENCES settlements (id),
    redemption_id BIGINT NOT NULL REFERENCES redemptions (id),
    village_id BIGINT NOT NULL REFERENCES villages (id),
    points BIGINT NOT NULL,
    yuan BIGINT NOT NULL,
    void_id BIGINT REFERENCES redemption_voids (id)
);
INSERT INTO settlement_lines_v2 (id, settlement_id, redemption_id, village_id, points, yuan)
SELECT id, settlement_id, redemption_id, village_id, points, yuan FROM settlement_lines;
DROP TABLE settlement_lines;
ALTER TABLE settlement_lines_v2 RENAME TO settlement_lines;
CREATE INDEX settlement_lines_settlement ON settlement_lines (settlement_id);
CREATE UNIQUE INDEX settlement_lines_redemption ON settlement_lines (redemption_id)
    WHERE void_id IS NULL;
CREATE UNIQUE INDEX settlement_lines_void ON settlement_lines (void_id)
    WHERE void_id IS NOT NULL;
