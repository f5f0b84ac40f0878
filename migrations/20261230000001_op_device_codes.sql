-- Issue 21, slice 7: the device authorization grant (RFC 8628). A device code is stored as
-- its hash only; the user code (normalised: 8 of the 20 consonants, no dash) is unique among
-- the rows kept, which the expiry sweep deletes ten minutes after they were made.
-- status: pending | approved | denied | used. `shown_to`: the session marker of the browser
-- the approval question was shown in (only that browser may answer it). The approving
-- session's user, `sid`, `auth_time` and `amr` go into the grant.
CREATE TABLE op_device_codes (
    device_code_hash TEXT PRIMARY KEY,
    user_code     TEXT NOT NULL,
    app_id        TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL,
    status        TEXT NOT NULL,
    shown_to      TEXT,
    user_id       TEXT REFERENCES users (id) ON DELETE CASCADE,
    sid           TEXT,
    auth_time     BIGINT,
    amr           TEXT,
    interval_secs BIGINT NOT NULL,
    last_poll_at  BIGINT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX op_device_codes_user_code ON op_device_codes (user_code);
