-- A create is one statement: the challenge row says whether it counted towards the rate limit,
-- and this trigger records that creation in the same statement, so both are written or neither.
ALTER TABLE challenges ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER challenges_count_creation AFTER INSERT ON challenges WHEN NEW.counted
BEGIN
    INSERT INTO challenge_creations (tenancy_id, email_key, created_at)
    VALUES (NEW.tenancy_id, NEW.email_key, NEW.created_at);
END;
