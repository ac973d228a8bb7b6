-- WeChat openids bound to household members (several per household, one member each).
CREATE TABLE wechat_bindings (
    id INTEGER PRIMARY KEY,
    openid TEXT NOT NULL UNIQUE,
    member_id BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX wechat_bindings_member ON wechat_bindings (member_id);

-- OAuth codes already exchanged: WeChat sometimes calls the callback twice with one
-- single-use code, and the second call must land where the first did.
CREATE TABLE wechat_codes (
    code_hash TEXT PRIMARY KEY,
    openid TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
