DROP TABLE settlement_villages;
