-- The points supermarket (积分超市): goods with stock kept as append-only movements and a
-- projection that never goes below zero; one-time payment codes; redemptions with
-- per-shop, per-day receipt numbers without gaps; voids.
CREATE TABLE goods (
    id BIGSERIAL PRIMARY KEY,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    points_price BIGINT NOT NULL,
    cost_yuan BIGINT NOT NULL,
    stock BIGINT NOT NULL CHECK (stock >= 0),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX goods_shop ON goods (shop_id);

CREATE TABLE payment_codes (
    id BIGSERIAL PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    code_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    used_at TIMESTAMP,
    redemption_id BIGINT
);
CREATE INDEX payment_codes_member ON payment_codes (member_id);

CREATE TABLE receipt_counters (
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    day DATE NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (shop_id, day)
);

CREATE TABLE redemptions (
    id BIGSERIAL PRIMARY KEY,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    village_id BIGINT NOT NULL REFERENCES villages (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    receipt_no TEXT NOT NULL UNIQUE,
    total_points BIGINT NOT NULL,
    points_after BIGINT NOT NULL,
    transaction_id BIGINT NOT NULL REFERENCES ledger_transactions (id),
    method TEXT NOT NULL,
    payment_code_id BIGINT REFERENCES payment_codes (id),
    proxy_name TEXT,
    keeper_id BIGINT NOT NULL REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX redemptions_shop ON redemptions (shop_id, id);
CREATE INDEX redemptions_household ON redemptions (household_id, id);

CREATE TABLE redemption_lines (
    id BIGSERIAL PRIMARY KEY,
    redemption_id BIGINT NOT NULL REFERENCES redemptions (id),
    goods_id BIGINT NOT NULL REFERENCES goods (id),
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    points_price BIGINT NOT NULL,
    cost_yuan BIGINT NOT NULL
);
CREATE INDEX redemption_lines_redemption ON redemption_lines (redemption_id);

CREATE TABLE redemption_voids (
    id BIGSERIAL PRIMARY KEY,
    redemption_id BIGINT NOT NULL UNIQUE REFERENCES redemptions (id),
    transaction_id BIGINT NOT NULL REFERENCES ledger_transactions (id),
    reason TEXT NOT NULL,
    actor_id BIGINT NOT NULL REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE stock_movements (
    id BIGSERIAL PRIMARY KEY,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    goods_id BIGINT NOT NULL REFERENCES goods (id),
    kind TEXT NOT NULL,
    delta BIGINT NOT NULL,
    stock_after BIGINT NOT NULL,
    reason TEXT NOT NULL,
    redemption_id BIGINT REFERENCES redemptions (id),
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX stock_movements_goods ON stock_movements (goods_id, id);

CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
FOR EACH ROW EXECUTE FUNCTION jifen_append_only();
CREATE TRIGGER stock_movements_no_truncate BEFORE TRUNCATE ON stock_movements
FOR EACH STATEMENT EXECUTE FUNCTION jifen_append_only();
