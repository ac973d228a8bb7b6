-- Which canonical form each chain link was hashed with (see src/ledger/model.rs):
-- links before this migration are version 1; new ones hash the actor too (version 2).
ALTER TABLE ledger_transactions ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;
