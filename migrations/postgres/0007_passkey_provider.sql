-- The AAGUID a passkey's authenticator reported when it was made (a UUID, as text), naming its
-- provider ("Google Password Manager", "Windows Hello"). NULL when it reported none, as many
-- security keys and privacy-minded providers do, and for the passkeys made before this column.
ALTER TABLE passkeys ADD COLUMN aaguid TEXT;
