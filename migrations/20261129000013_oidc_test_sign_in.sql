-- Test sign-in (Settings → OpenID Connect → provider editor): an attempt carries the
-- editor's values (encrypted, client secret included) in `test_config` until its callback
-- consumes the row; the report it produces waits here, bound to the administrator and the
-- browser, until it is shown once or expires.
ALTER TABLE oidc_pending ADD COLUMN test_config TEXT;
CREATE TABLE oidc_test_reports (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    binding_hash  TEXT NOT NULL,
    report        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX oidc_test_reports_expires ON oidc_test_reports (expires_at);
