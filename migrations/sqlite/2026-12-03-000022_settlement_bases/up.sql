-- How a statement priced each village's redemptions when it was drawn up: the village's
-- `settle_at` and `yuan_per_point` (hundredths of a yuan) then, printed beside the sum, so
-- a later change of policy cannot make a statement's figures look wrong.
CREATE TABLE settlement_bases (
    settlement_id BIGINT NOT NULL REFERENCES settlements (id),
    village_id BIGINT NOT NULL REFERENCES villages (id),
    settle_at TEXT NOT NULL,
    yuan_per_point BIGINT NOT NULL,
    PRIMARY KEY (settlement_id, village_id)
);
