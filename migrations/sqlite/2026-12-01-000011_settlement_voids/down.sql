DELETE FROM settlement_lines WHERE void_id IS NOT NULL;
CREATE TABLE settlement_lines_v1 (
    id INTEGER PRIMARY KEY,
    settlement_id BIGINT NOT NULL REFERENCES settlements (id),
    redemption_id BIGINT NOT NULL UNIQUE REFERENCES redemptions (id),
    village_id BIGINT NOT NULL REFERENCES villages (id),
    points BIGINT NOT NULL,
    yuan BIGINT NOT NULL
);
INSERT INTO settlement_lines_v1 SELECT id, settlement_id, redemption_id, village_id, points, yuan
FROM settlement_lines;
DROP TABLE settlement_lines;
ALTER TABLE settlement_lines_v1 RENAME TO settlement_lines;
CREATE INDEX settlement_lines_settlement ON settlement_lines (settlement_id);
