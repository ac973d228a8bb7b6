-- 积分证明: a household's statement for a bank, signed with the server's Ed25519 key.
-- `document` is the canonical JSON exactly as signed; the QR's check address carries a
-- random token, kept here only as its SHA-256.
CREATE TABLE household_statements (
    id BIGSERIAL PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    document TEXT NOT NULL,
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL,
    check_token_hash TEXT NOT NULL UNIQUE,
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX household_statements_household ON household_statements (household_id, id);
