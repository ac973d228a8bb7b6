-- Every lookup a redemption makes is by an index, so its cost does not grow with history.
-- The card's spends of the day (the daily cap):
CREATE INDEX redemptions_card_day ON redemptions (card_id, created_at);
-- The redemption a payment code paid for (the villager's page waits for it):
CREATE INDEX redemptions_payment_code ON redemptions (payment_code_id);
-- The posting job's claims whose notice has ended, in every village:
CREATE INDEX claims_notice_end ON claims (status, notice_ends_at);

-- The chain head is the last link: each new link moves it in the same statement, so the
-- head can never disagree with the chain, and posting needs no statement to move it.
CREATE TRIGGER ledger_transactions_move_head AFTER INSERT ON ledger_transactions
BEGIN
    UPDATE chain_heads
    SET seq = NEW.seq, hash = NEW.hash, updated_at = NEW.created_at
    WHERE village_id = NEW.village_id;
END;
