DROP TABLE claim_evidence;
DROP TABLE objections;
