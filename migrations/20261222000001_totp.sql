-- Issue: one-time codes (TOTP, RFC 6238) as a second factor for local accounts. One row per
-- account that has started or finished enrolment: the secret is sealed by SecretBox (context
-- 'totp:<user id>'), so the column alone reveals nothing and cannot be moved to another row.
-- An enrolment counts once `confirmed_at` is set (a code from the app was accepted).
-- `last_step` is the last time step whose code was accepted: a code at or before it is
-- refused (one UPDATE ... WHERE last_step < $n decides, on every replica at once).
CREATE TABLE user_totp (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_enc    TEXT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
-- Ten single-use recovery codes per account, shown once: SHA-256 of the code, base64url
-- (the codes are random, 80 bits, so a fast hash suffices). A used code is deleted.
CREATE TABLE user_recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
