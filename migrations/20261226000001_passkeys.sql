-- Issue 22 item 1: passkeys (WebAuthn). One row per registered passkey: webauthn-rs's
-- `Passkey` as JSON (the credential id, public key, counter and backup flags; nothing
-- secret), with what the pages and the checks read copied out: the credential id
-- (base64url, unique across accounts), the signature counter (a sign-in must raise it, one
-- guarded UPDATE decides), the backup flags, the owner's name for it and its moments.
CREATE TABLE user_passkeys (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id    TEXT NOT NULL,
    name             TEXT NOT NULL,
    passkey          TEXT NOT NULL,
    sign_count       BIGINT NOT NULL DEFAULT 0,
    backup_eligible  BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL,
    last_used_at     BIGINT
);
CREATE UNIQUE INDEX user_passkeys_credential_key ON user_passkeys (credential_id);
CREATE INDEX user_passkeys_user ON user_passkeys (user_id);
-- A ceremony between its two halves (register or sign in): webauthn-rs's state as JSON, so
-- any replica can finish it. Bound to the browser that started it (the SHA-256 of its
-- binding cookie), five minutes, used once (taken by one DELETE ... RETURNING).
CREATE TABLE passkey_challenges (
    id            TEXT PRIMARY KEY,
    binding_hash  TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    user_id       TEXT REFERENCES users (id) ON DELETE CASCADE,
    state         TEXT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX passkey_challenges_binding ON passkey_challenges (binding_hash);
-- One-time enrolment links an administrator makes (`portcullis user passkey-link`): whoever
-- holds the link may add a passkey to that account, once, within 24 hours. Only the SHA-256
-- of the link's token is stored; one link per account (a new one replaces it).
CREATE TABLE passkey_enrolments (
    user_id     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  BIGINT NOT NULL
);
