-- Indexes for each condition the background purge deletes by, so that every chunk it deletes
-- finds its rows without a scan. The challenge and outbox ones exist since 0001 and 0005.
CREATE INDEX dev_mailbox_by_time ON dev_mailbox (sent_at);
