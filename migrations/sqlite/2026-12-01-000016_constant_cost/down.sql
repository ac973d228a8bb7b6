DROP TRIGGER ledger_transactions_move_head;
DROP INDEX claims_notice_end;
DROP INDEX redemptions_payment_code;
DROP INDEX redemptions_card_day;
