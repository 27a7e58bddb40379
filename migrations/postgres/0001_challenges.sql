-- The mailbox challenge service: tenancies, challenges and the rate-limit ledgers.
-- The same tables as migrations/sqlite; times are epoch milliseconds in BIGINT.

CREATE TABLE tenancies (
    id           TEXT PRIMARY KEY,
    -- SHA-256 of the API key; the key itself is shown once, when created or rotated.
    api_key_hash BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE challenges (
    id          TEXT PRIMARY KEY,
    -- Grows with each insert, as SQLite's rowid does: what "stored before" means for
    -- invalidateOthers.
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    tenancy_id  TEXT NOT NULL REFERENCES tenancies (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    email       TEXT NOT NULL,
    -- Lower-cased email: the subject of invalidation and rate limits.
    email_key   TEXT NOT NULL,
    user_id     TEXT,
    metadata    TEXT,
    -- HMAC-SHA-256 under CHALLENGE_HASH_KEY; never the secret or code themselves.
    secret_hash BYTEA NOT NULL,
    code_hash   BYTEA NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    consumed_at BIGINT
);

CREATE INDEX challenges_by_email ON challenges (tenancy_id, purpose, email_key);
CREATE INDEX challenges_by_user ON challenges (tenancy_id, purpose, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX challenges_by_expiry ON challenges (expires_at);
CREATE INDEX challenges_by_consumption ON challenges (consumed_at) WHERE consumed_at IS NOT NULL;

-- One row per create that counted towards the rate limit.
CREATE TABLE challenge_creations (
    tenancy_id TEXT NOT NULL REFERENCES tenancies (id) ON DELETE CASCADE,
    email_key  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX challenge_creations_by_email ON challenge_creations (tenancy_id, email_key, created_at);
CREATE INDEX challenge_creations_by_time ON challenge_creations (created_at);

-- One row per wrong code.
CREATE TABLE verification_failures (
    tenancy_id TEXT NOT NULL REFERENCES tenancies (id) ON DELETE CASCADE,
    email_key  TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);

CREATE INDEX verification_failures_by_email ON verification_failures (tenancy_id, email_key, failed_at);
CREATE INDEX verification_failures_by_time ON verification_failures (failed_at);

-- Keys generated on first start in development (production takes them from settings).
CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
