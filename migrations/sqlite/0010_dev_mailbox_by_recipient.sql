-- The newest email to an address (/dev/mailbox?to=) is one indexed row, not a scan of every
-- email newest first. The address is kept as the app compares addresses, ASCII letters folded
-- and nothing else, which is what SQLite's lower() does.
ALTER TABLE dev_mailbox ADD COLUMN recipient_normalized TEXT NOT NULL DEFAULT '';
UPDATE dev_mailbox SET recipient_normalized = lower(recipient);
CREATE INDEX dev_mailbox_by_recipient ON dev_mailbox (recipient_normalized, id);
