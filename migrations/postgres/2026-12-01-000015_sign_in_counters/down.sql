DROP TABLE sign_in_counters;
