-- For the purge under load: @rows challenges expired more than a day ago (past retention) and
-- rate-limit rows past their windows, all of which the purge removes. @now is epoch ms.
BEGIN;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @rows - 1)
INSERT INTO challenges (id, tenancy_id, purpose, email, email_key, user_id, metadata, secret_hash,
                        code_hash, attempts, created_at, expires_at, consumed_at)
SELECT printf('old%017d', i), @tenancy, 'login', printf('old-%d@example.com', i),
       printf('old-%d@example.com', i), NULL, NULL, randomblob(32), randomblob(32), 0,
       @now - 172800000 - i, @now - 172800000 - i + 600000, NULL
FROM n;

-- Creations an hour old (the window is 10 minutes), wrong codes two days old (the window is a day).
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @rows * 9 / 10 - 1)
INSERT INTO challenge_creations (tenancy_id, email_key, created_at)
SELECT @tenancy, printf('old-%d@example.com', i / 5), @now - 3600000 - i FROM n;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @rows / 10 - 1)
INSERT INTO verification_failures (tenancy_id, email_key, failed_at)
SELECT @tenancy, printf('old-%d@example.com', i), @now - 172800000 - i FROM n;

COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
