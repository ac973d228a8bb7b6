ALTER TABLE ledger_transactions DROP COLUMN chain_version;
