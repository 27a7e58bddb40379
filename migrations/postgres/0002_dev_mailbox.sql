-- Mail kept for /dev/mailbox when no SMTP server is configured.
CREATE TABLE dev_mailbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    html       TEXT NOT NULL,
    text       TEXT NOT NULL,
    sent_at    BIGINT NOT NULL
);
