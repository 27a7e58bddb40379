-- A create is one statement: the challenge row says whether it counted towards the rate limit,
-- and this trigger records that creation in the same statement, so both are written or neither.
ALTER TABLE challenges ADD COLUMN counted BOOLEAN NOT NULL DEFAULT FALSE;

CREATE FUNCTION count_creation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO challenge_creations (tenancy_id, email_key, created_at)
    VALUES (NEW.tenancy_id, NEW.email_key, NEW.created_at);
    RETURN NULL;
END
$$;

CREATE TRIGGER challenges_count_creation AFTER INSERT ON challenges
    FOR EACH ROW WHEN (NEW.counted) EXECUTE FUNCTION count_creation();
