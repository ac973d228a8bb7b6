-- Settlement (结算): a statement of a shop's redemptions in a period, net of voids,
-- approved (figures frozen) and paid; a redemption is settled at most once.
CREATE TABLE settlements (
    id INTEGER PRIMARY KEY,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    status TEXT NOT NULL,
    redemptions INTEGER NOT NULL,
    points BIGINT NOT NULL,
    yuan BIGINT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    approved_by BIGINT REFERENCES staff (id),
    approved_at TIMESTAMP,
    paid_by BIGINT REFERENCES staff (id),
    paid_at TIMESTAMP,
    paid_on DATE,
    reference TEXT
);
CREATE INDEX settlements_shop ON settlements (shop_id, id);

CREATE TABLE settlement_lines (
    id INTEGER PRIMARY KEY,
    settlement_id BIGINT NOT NULL REFERENCES settlements (id),
    redemption_id BIGINT NOT NULL UNIQUE REFERENCES redemptions (id),
    village_id BIGINT NOT NULL REFERENCES villages (id),
    points BIGINT NOT NULL,
    yuan BIGINT NOT NULL
);
CREATE INDEX settlement_lines_settlement ON settlement_lines (settlement_id);
