-- The mailbox challenge service: tenancies, challenges and the rate-limit ledgers.

CREATE TABLE tenancies (
    id           TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the API key; the key itself is shown once, when created or rotated.
    api_key_hash BLOB NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE challenges (
    id          TEXT PRIMARY KEY NOT NULL,
    tenancy_id  TEXT NOT NULL REFERENCES tenancies (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    email       TEXT NOT NULL,
    -- Lower-cased email: the subject of invalidation and rate limits.
    email_key   TEXT NOT NULL,
    user_id     TEXT,
    metadata    TEXT,
    -- HMAC-SHA-256 under CHALLENGE_HASH_KEY; never the secret or code themselves.
    secret_hash BLOB NOT NULL,
    code_hash   BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
) STRICT;

CREATE INDEX challenges_by_email ON challenges (tenancy_id, purpose, email_key);
CREATE INDEX challenges_by_user ON challenges (tenancy_id, purpose, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX challenges_by_expiry ON challenges (expires_at);

-- One row per create that counted towards the rate limit.
CREATE TABLE challenge_creations (
    tenancy_id TEXT NOT NULL REFERENCES tenancies (id) ON DELETE CASCADE,
    email_key  TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX challenge_creations_by_email ON challenge_creations (tenancy_id, email_key, created_at);

-- One row per wrong code.
CREATE TABLE verification_failures (
    tenancy_id TEXT NOT NULL REFERENCES tenancies (id) ON DELETE CASCADE,
    email_key  TEXT NOT NULL,
    failed_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX verification_failures_by_email ON verification_failures (tenancy_id, email_key, failed_at);

-- Keys generated on first start in development (production takes them from settings).
CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
