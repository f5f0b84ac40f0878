-- Issue 21 item 3, slice 6: sign-out reaches every application (OpenID Connect Back-Channel
-- Logout 1.0, sent by Portcullis; docs/openid-provider.md §3.8).
--
-- Which applications each Portcullis session (`sessions.op_sid`) signed in to: one row per
-- code exchange's (sid, application), `sub` the user. No foreign key to `sessions` or
-- `users` on purpose: the row outlives both, so the logout token still goes out when a
-- session is deleted or its user removed. `gone_at`: when a sweep first found the session
-- gone (a sign-in that renews the session id keeps its `sid` and brings it back within a
-- moment); a row gone for a few seconds moves to the outbox.
CREATE TABLE op_session_clients (
    sid      TEXT NOT NULL,
    app_id   TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    sub      TEXT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at  BIGINT NOT NULL,
    gone_at  BIGINT,
    PRIMARY KEY (sid, app_id)
);
-- Logout tokens to deliver: claimed by one UPDATE (`claimed_until`, so two replicas never
-- both send one), deleted once delivered or given up on; `attempts` so far, the next one
-- not before `next_at`.
CREATE TABLE op_logout_outbox (
    sid           TEXT NOT NULL,
    app_id        TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    sub           TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_at       BIGINT NOT NULL,
    claimed_until BIGINT,
    PRIMARY KEY (sid, app_id)
);
CREATE INDEX op_logout_outbox_next ON op_logout_outbox (next_at);
