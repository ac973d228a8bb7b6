-- Claims (申报) and their history. A claim's current state is a row; every change of
-- state is an append-only claim event.
CREATE TABLE claims (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    member_id BIGINT REFERENCES members (id),
    item_id BIGINT NOT NULL REFERENCES checklist_items (id),
    item_version INTEGER NOT NULL,
    points BIGINT NOT NULL,
    quantity INTEGER NOT NULL,
    total BIGINT NOT NULL,
    status TEXT NOT NULL,
    occurred_on DATE NOT NULL,
    note TEXT NOT NULL,
    notice_ends_at TIMESTAMP,
    transaction_id BIGINT REFERENCES ledger_transactions (id),
    created_by_kind TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX claims_village_status ON claims (village_id, status);
CREATE INDEX claims_household_item ON claims (household_id, item_id, occurred_on);

CREATE TABLE claim_events (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX claim_events_claim ON claim_events (claim_id, id);

CREATE TRIGGER claim_events_no_update BEFORE UPDATE ON claim_events
BEGIN SELECT RAISE(ABORT, 'claim_events is append-only'); END;
CREATE TRIGGER claim_events_no_delete BEFORE DELETE ON claim_events
BEGIN SELECT RAISE(ABORT, 'claim_events is append-only'); END;
