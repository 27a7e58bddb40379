-- What the account page lists of each session, so that its owner can tell their sessions apart
-- and end one: a public id (random, never the key or its hash, so a form may carry it), the
-- device it was opened on, whether it is recovering the account, when it began and when it was
-- last seen. Rows from before have none of them.
ALTER TABLE sessions
    ADD COLUMN public_id    TEXT,
    ADD COLUMN device       TEXT,
    ADD COLUMN recovering   BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN created_at   BIGINT,
    ADD COLUMN last_seen_at BIGINT;

-- A session of an account without a public id could neither be listed nor be told apart from
-- the one asking to sign out everywhere else; those sessions end here, and their owners sign in
-- once more.
DELETE FROM sessions WHERE user_id IS NOT NULL;
