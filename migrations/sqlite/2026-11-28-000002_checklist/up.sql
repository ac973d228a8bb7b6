-- The checklist (积分清单): an item keeps its identity; each edit is a new version, and
-- claims keep the version they used.
CREATE TABLE checklist_items (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    code TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (village_id, code)
);

CREATE TABLE checklist_item_versions (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    item_id BIGINT NOT NULL REFERENCES checklist_items (id),
    version INTEGER NOT NULL,
    code TEXT NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    points BIGINT NOT NULL,
    period TEXT NOT NULL,
    cap_count INTEGER,
    proposers TEXT NOT NULL,
    evidence_required BOOLEAN NOT NULL,
    created_by BIGINT NOT NULL REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (item_id, version)
);
