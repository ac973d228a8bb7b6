-- Public notice (公示): objections decided by the supervisors, and evidence photos.
CREATE TABLE objections (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by BIGINT REFERENCES staff (id),
    decision_note TEXT,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX objections_claim ON objections (claim_id, status);

CREATE TABLE claim_evidence (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by_kind TEXT NOT NULL,
    uploaded_by BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX claim_evidence_claim ON claim_evidence (claim_id);
