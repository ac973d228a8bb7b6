DROP INDEX payment_codes_village_live;
DROP TABLE expiry_runs;
