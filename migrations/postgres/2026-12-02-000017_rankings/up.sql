-- A ranking over a year, quarter or month reads the village's transactions of that
-- stretch of time, and no others.
CREATE INDEX ledger_transactions_village_time ON ledger_transactions (village_id, created_at);
