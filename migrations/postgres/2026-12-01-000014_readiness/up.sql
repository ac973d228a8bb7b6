-- One row that /readyz rewrites, to learn whether the database can take a write now
-- (a full disk or a read-only file answer "not ready" within seconds).
CREATE TABLE readiness (
    id BIGINT PRIMARY KEY,
    checked_at TIMESTAMP NOT NULL
);
INSERT INTO readiness (id, checked_at) VALUES (1, CURRENT_TIMESTAMP);
