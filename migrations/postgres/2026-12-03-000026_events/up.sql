-- Village events (议事会, a clean-up day, 壮族三月三): villagers check in by scanning the
-- event's QR, or a cadre ticks them at the door; closing the event turns each check-in
-- into one claim against the event's item.
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    item_id BIGINT NOT NULL REFERENCES checklist_items (id),
    title TEXT NOT NULL,
    place TEXT,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    max_checkins INTEGER,
    status TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES staff (id),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX events_village ON events (village_id, id);
CREATE TABLE event_checkins (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    member_id BIGINT REFERENCES members (id),
    at TIMESTAMP NOT NULL,
    claim_id BIGINT REFERENCES claims (id),
    UNIQUE (event_id, household_id)
);
