DROP TRIGGER ledger_transactions_move_head ON ledger_transactions;
DROP FUNCTION jifen_move_chain_head();
DROP INDEX claims_notice_end;
DROP INDEX redemptions_payment_code;
DROP INDEX redemptions_card_day;
