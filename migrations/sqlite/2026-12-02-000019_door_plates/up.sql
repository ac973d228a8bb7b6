-- 一户一码: a household's door plate carries a random token in its QR. The token is a
-- public address (it opens a page of what the village already shows on its boards), kept
-- as it is so the desk can print the sheet again; issuing anew replaces it.
CREATE TABLE door_plates (
    household_id BIGINT PRIMARY KEY REFERENCES households (id),
    village_id BIGINT NOT NULL REFERENCES villages (id),
    token TEXT NOT NULL UNIQUE,
    issued_at TIMESTAMP NOT NULL,
    issued_by BIGINT NOT NULL REFERENCES staff (id)
);
CREATE INDEX door_plates_village ON door_plates (village_id, household_id);
