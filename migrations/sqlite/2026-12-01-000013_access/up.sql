-- Taking access back: a household or a member can be deactivated (kept in history, no
-- longer able to sign in, earn or spend), and a member's sign-ins ended at once (a lost
-- phone): access tokens issued before signed_out_at no longer count.
ALTER TABLE households ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE members ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE members ADD COLUMN phone TEXT;
ALTER TABLE members ADD COLUMN signed_out_at TIMESTAMP;
