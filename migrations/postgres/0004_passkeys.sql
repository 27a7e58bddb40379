-- Passkeys and the WebAuthn ceremonies in flight.

CREATE TABLE passkeys (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- One credential belongs to one account, whichever account tries to register it again.
    credential_id BYTEA NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    -- webauthn-rs' serialised Passkey: public key, counter, backup flags.
    passkey       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);

CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- Registration and authentication state between start and finish. Its id lives only in the
-- server-side session that started it; a row is taken (deleted) by the one finish that uses it.
CREATE TABLE ceremonies (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX ceremonies_by_expiry ON ceremonies (expires_at);
