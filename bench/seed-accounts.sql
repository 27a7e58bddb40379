-- For the flow: @rows accounts flow-N@example.com with verified addresses. @now is epoch ms.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @rows - 1)
INSERT INTO users (id, email, email_key, name, email_verified_at, created_at, updated_at)
SELECT printf('%08x-0000-4000-8000-%012x', i, i), printf('flow-%d@example.com', i),
       printf('flow-%d@example.com', i), printf('Flow %d', i), @now, @now, @now
FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
