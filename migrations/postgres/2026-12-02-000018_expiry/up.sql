-- 清零 happens once per village and year: the run's row is its proof, inserted in the
-- same transaction as the expiry postings, so a second server (or a restart) finds it.
CREATE TABLE expiry_runs (
    village_id BIGINT NOT NULL REFERENCES villages (id),
    year INTEGER NOT NULL,
    ran_at TIMESTAMP NOT NULL,
    households BIGINT NOT NULL,
    points BIGINT NOT NULL,
    -- The job asks by year, for every village at once.
    PRIMARY KEY (year, village_id)
);
-- The payment codes still alive in a village, which 清零 ends.
CREATE INDEX payment_codes_village_live ON payment_codes (village_id, expires_at);
