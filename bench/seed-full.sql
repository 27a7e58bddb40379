-- Tables already full: @rows challenges, @rows rate-limit rows and @rows sessions, none of which
-- the purge removes (within retention, within their windows, unexpired). @now is epoch ms.
-- One statement per table, in one transaction. The challenges' ids (20 characters, as the
-- service makes them), addresses and hashes (32 bytes) have the shapes the code reads.
BEGIN;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @rows - 1)
INSERT INTO challenges (id, tenancy_id, purpose, email, email_key, user_id, metadata, secret_hash,
                        code_hash, attempts, created_at, expires_at, consumed_at)
SELECT printf('seed%016d', i), @tenancy, 'login', printf('seed-%d@example.com', i),
       printf('seed-%d@example.com', i), NULL, NULL, randomblob(32), randomblob(32), i % 3,
       @now - i % 300000, @now - i % 300000 + 600000,
       -- Half of them consumed, a second after they were made.
       CASE WHEN i % 2 = 1 THEN @now - i % 300000 + 1000 END
FROM n;

-- Nine tenths creations within the create window (five per address), one tenth wrong codes.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @rows * 9 / 10 - 1)
INSERT INTO challenge_creations (tenancy_id, email_key, created_at)
SELECT @tenancy, printf('seed-%d@example.com', i / 5), @now - i % 300000 FROM n;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @rows / 10 - 1)
INSERT INTO verification_failures (tenancy_id, email_key, failed_at)
SELECT @tenancy, printf('seed-%d@example.com', i), @now - i % 300000 FROM n;

-- Anonymous sessions (no user), valid for another day.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @rows - 1)
INSERT INTO sessions (key_hash, user_id, state, expires_at, public_id, device, recovering, created_at,
                      last_seen_at)
SELECT randomblob(32), NULL, '{}', @now + 86400000, NULL, NULL, 0, @now - i % 300000, @now - i % 300000
FROM n;

COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
