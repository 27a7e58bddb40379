-- Security notices, written in the transaction of the change they report and sent by a
-- background worker that retries with backoff until the mail server takes them.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    html             TEXT NOT NULL,
    text             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    -- A worker that took the row; another process leaves it alone until then.
    claimed_until    INTEGER NOT NULL DEFAULT 0,
    sent_at          INTEGER
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
