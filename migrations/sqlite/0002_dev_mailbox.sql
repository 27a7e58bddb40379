-- Mail kept for /dev/mailbox when no SMTP server is configured.
CREATE TABLE dev_mailbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    html       TEXT NOT NULL,
    text       TEXT NOT NULL,
    sent_at    INTEGER NOT NULL
) STRICT;
