DROP TABLE settlement_bases;
