DROP TABLE household_statements;
