-- The ledger (DESIGN.md §4): accounts with a balance projection, transactions chained by
-- hash per village, postings that sum to zero per asset, idempotency records, audit.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    owner_kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    asset TEXT NOT NULL,
    purpose TEXT NOT NULL,
    balance BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (village_id, owner_kind, owner_id, asset, purpose)
);

CREATE TABLE chain_heads (
    village_id BIGINT PRIMARY KEY REFERENCES villages (id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE ledger_transactions (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    memo TEXT NOT NULL,
    reverses_id BIGINT UNIQUE REFERENCES ledger_transactions (id),
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (village_id, seq)
);

CREATE TABLE postings (
    id INTEGER PRIMARY KEY,
    village_id BIGINT NOT NULL REFERENCES villages (id),
    transaction_id BIGINT NOT NULL REFERENCES ledger_transactions (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    asset TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL
);
CREATE INDEX postings_transaction ON postings (transaction_id);
CREATE INDEX postings_account ON postings (account_id, transaction_id);

CREATE TABLE idempotency_records (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (scope, idem_key)
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    village_id BIGINT REFERENCES villages (id),
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    action TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id BIGINT,
    detail TEXT NOT NULL,
    addr TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_village ON audit_events (village_id, id);

-- Append-only: history is corrected by reversal transactions, never by edits.
CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger_transactions is append-only'); END;
CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger_transactions is append-only'); END;
CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'postings is append-only'); END;
CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'postings is append-only'); END;
CREATE TRIGGER idempotency_records_no_update BEFORE UPDATE ON idempotency_records
BEGIN SELECT RAISE(ABORT, 'idempotency_records is append-only'); END;
CREATE TRIGGER idempotency_records_no_delete BEFORE DELETE ON idempotency_records
BEGIN SELECT RAISE(ABORT, 'idempotency_records is append-only'); END;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
