-- The sample app's accounts and their server-side sessions.

CREATE TABLE users (
    -- A UUID: the WebAuthn user handle, never the email.
    id                TEXT PRIMARY KEY NOT NULL,
    email             TEXT NOT NULL,
    -- Lower-cased email: one account per address, compared case-insensitively.
    email_key         TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    email_verified_at INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    -- SHA-256 of the session key from the cookie: a stolen copy of this table opens no session.
    key_hash   BLOB PRIMARY KEY NOT NULL,
    -- The signed-in user, so that every session of a user can be ended at once.
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
