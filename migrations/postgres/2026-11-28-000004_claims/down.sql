DROP TABLE claim_events;
DROP TABLE claims;
