ALTER TABLE members DROP COLUMN signed_out_at;
ALTER TABLE members DROP COLUMN phone;
ALTER TABLE members DROP COLUMN active;
ALTER TABLE households DROP COLUMN active;
