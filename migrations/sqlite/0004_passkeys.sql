-- Passkeys and the WebAuthn ceremonies in flight.

CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- One credential belongs to one account, whichever account tries to register it again.
    credential_id BLOB NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    -- webauthn-rs' serialised Passkey: public key, counter, backup flags.
    passkey       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;

CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- Registration and authentication state between start and finish. Its id lives only in the
-- server-side session that started it; a row is taken (deleted) by the one finish that uses it.
CREATE TABLE ceremonies (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX ceremonies_by_expiry ON ceremonies (expires_at);
