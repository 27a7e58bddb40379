-- The newest email to an address (/dev/mailbox?to=) is one indexed row, not a scan of every
-- email newest first. The address is kept as the app compares addresses, ASCII letters folded
-- and nothing else: translate, since lower() may fold other letters under the collation.
ALTER TABLE dev_mailbox ADD COLUMN recipient_normalized TEXT NOT NULL DEFAULT '';
UPDATE dev_mailbox SET recipient_normalized = translate(recipient, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
CREATE INDEX dev_mailbox_by_recipient ON dev_mailbox (recipient_normalized, id);
