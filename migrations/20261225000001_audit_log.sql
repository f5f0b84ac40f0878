-- Issue 23 item 2: the audit log. One row per security-relevant event: when, what (a stable
-- snake_case name, `portcullis::audit::EventKind`), who acted (a user's id and name as it was,
-- or `cli`, `provider:<slug>`), from which client address, on what (type, id, name as it
-- was), the user it concerns (for the filter), and details as JSON (reasons, changed field
-- names, rules: never a secret). The id is a UUID v7, so ordering by id is ordering by time:
-- the listing pages by it (keyset). Forward-auth denials are counted: one row per minute,
-- application, user and reason (`dedupe`, unique; NULL for every other event, and NULLs
-- never collide), so a flood adds to a count instead of rows. SQLite and PostgreSQL alike.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    event       TEXT NOT NULL,
    actor_id    TEXT,
    actor       TEXT NOT NULL,
    client      TEXT,
    target_type TEXT,
    target_id   TEXT,
    target      TEXT,
    user_id     TEXT,
    details     TEXT NOT NULL DEFAULT '{}',
    count       BIGINT NOT NULL DEFAULT 1,
    dedupe      TEXT
);
-- Every index is paid by every event (a sign-in writes one): the counted rows' key, the
-- retention sweep and date filters (at), the filter by event. The filter by user matches the
-- actor's id, the user's id or the actor's name (one OR, which no single index serves), over
-- what the retention keeps.
CREATE UNIQUE INDEX audit_events_dedupe ON audit_events (dedupe);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_event ON audit_events (event, id);
