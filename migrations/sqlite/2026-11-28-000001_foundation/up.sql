-- Organisation and sign-in. Times are UTC; every village-owned table carries village_id.
CREATE TABLE townships (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE villages (
    id INTEGER PRIMARY KEY,
    township_id BIGINT NOT NULL REFERENCES townships (id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    policy TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE village_groups (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (village_id, name)
);

CREATE TABLE households (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    group_id BIGINT REFERENCES village_groups (id),
    door_no TEXT NOT NULL,
    head_name TEXT NOT NULL,
    phone TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (village_id, door_no)
);
CREATE INDEX households_group ON households (group_id);

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    name TEXT NOT NULL,
    relation TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX members_household ON members (household_id);

CREATE TABLE shops (
    id INTEGER PRIMARY KEY,
    township_id BIGINT NOT NULL REFERENCES townships (id),
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE shop_villages (
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    village_id BIGINT NOT NULL REFERENCES villages (id),
    PRIMARY KEY (shop_id, village_id)
);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    township_id BIGINT NOT NULL REFERENCES townships (id),
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE role_bindings (
    id INTEGER PRIMARY KEY,
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    role TEXT NOT NULL,
    scope_id BIGINT NOT NULL,
    village_id BIGINT REFERENCES villages (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (staff_id, role, scope_id)
);
CREATE INDEX role_bindings_village ON role_bindings (village_id);

CREATE TABLE refresh_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    family TEXT NOT NULL,
    staff_id BIGINT REFERENCES staff (id),
    member_id BIGINT REFERENCES members (id),
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

CREATE TABLE invite_codes (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    household_id BIGINT NOT NULL REFERENCES households (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    code_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT NOT NULL REFERENCES staff (id),
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX invite_codes_member ON invite_codes (member_id);
