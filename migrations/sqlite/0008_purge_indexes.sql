-- Indexes for each condition the background purge deletes by, so that every chunk it deletes
-- finds its rows without a scan. (PostgreSQL had most of these from the start.)
CREATE INDEX challenges_by_consumption ON challenges (consumed_at) WHERE consumed_at IS NOT NULL;
CREATE INDEX challenge_creations_by_time ON challenge_creations (created_at);
CREATE INDEX verification_failures_by_time ON verification_failures (failed_at);
CREATE INDEX dev_mailbox_by_time ON dev_mailbox (sent_at);
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
