-- What the account page lists of each session, so that its owner can tell their sessions apart
-- and end one: a public id (random, never the key or its hash, so a form may carry it), the
-- device it was opened on, whether it is recovering the account, when it began and when it was
-- last seen. Rows from before have none of them.
ALTER TABLE sessions ADD COLUMN public_id TEXT;
ALTER TABLE sessions ADD COLUMN device TEXT;
ALTER TABLE sessions ADD COLUMN recovering INTEGER NOT NULL DEFAULT 0 CHECK (recovering IN (0, 1));
ALTER TABLE sessions ADD COLUMN created_at INTEGER;
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER;

-- A session of an account without a public id could neither be listed nor be told apart from
-- the one asking to sign out everywhere else; those sessions end here, and their owners sign in
-- once more.
DELETE FROM sessions WHERE user_id IS NOT NULL;
