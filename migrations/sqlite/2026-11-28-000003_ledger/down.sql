DROP TABLE audit_events;
DROP TABLE idempotency_records;
DROP TABLE postings;
DROP TABLE ledger_transactions;
DROP TABLE chain_heads;
DROP TABLE accounts;
