-- What a statement records of each village when the township approves it: where the
-- village's hash chain stood (printed, so anyone can later check the books it was drawn
-- from are the ones still there) and who was paying for its points then (JSON shares of
-- the policy's `funding`; a later change of policy does not rewrite a signed statement).
CREATE TABLE settlement_villages (
    settlement_id BIGINT NOT NULL REFERENCES settlements (id),
    village_id BIGINT NOT NULL REFERENCES villages (id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    funding TEXT NOT NULL,
    PRIMARY KEY (settlement_id, village_id)
);
