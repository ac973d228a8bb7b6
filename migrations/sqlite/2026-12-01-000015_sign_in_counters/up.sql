-- Sign-in limits shared by every server and kept across restarts: one counter per key
-- (an account at an address, an address, the township's invite budget, an address that
-- signed in lately) in a fixed window, bumped and read back in one statement.
CREATE TABLE sign_in_counters (
    key TEXT PRIMARY KEY,
    window_start TIMESTAMP NOT NULL,
    count INTEGER NOT NULL
);
CREATE INDEX sign_in_counters_window ON sign_in_counters (window_start);
