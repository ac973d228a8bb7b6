-- Sessions of the pages (HttpOnly cookie); the token is stored only as a hash.
CREATE TABLE web_sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    member_id BIGINT REFERENCES members (id),
    staff_id BIGINT REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
