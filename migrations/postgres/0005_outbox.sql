-- Security notices, written in the transaction of the change they report and sent by a
-- background worker that retries with backoff until the mail server takes them.
CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    html             TEXT NOT NULL,
    text             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    -- A worker that took the row; another instance leaves it alone until then.
    claimed_until    BIGINT NOT NULL DEFAULT 0,
    sent_at          BIGINT
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
